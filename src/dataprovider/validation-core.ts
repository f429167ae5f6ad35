/**
 * Building blocks for validating untrusted JSON: a ValidationError type (the
 * HTTP layer maps it to 400) and typed field readers that throw it with a
 * message naming the field.
 */
import path from 'node:path';
import { parseCidr } from './ipfilter';

export class ValidationError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ValidationError';
  }
}

export function isValidationError(e: unknown): e is ValidationError {
  return e instanceof ValidationError;
}

export type Obj = Record<string, unknown>;

export function isObj(v: unknown): v is Obj {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

export function asObj(v: unknown, field: string): Obj {
  if (!isObj(v)) throw new ValidationError(`${field} must be a JSON object`);
  return v;
}

export function optObj(o: Obj, key: string, field = key): Obj | undefined {
  const v = o[key];
  if (v === undefined || v === null) return undefined;
  return asObj(v, field);
}

export function optString(o: Obj, key: string, field = key): string | undefined {
  const v = o[key];
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'string') throw new ValidationError(`${field} must be a string`);
  return v;
}

export function optBool(o: Obj, key: string, field = key): boolean | undefined {
  const v = o[key];
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'boolean') throw new ValidationError(`${field} must be a boolean`);
  return v;
}

/** An integer within [min, max]; undefined when absent. */
export function optInt(o: Obj, key: string, min: number, max = Number.MAX_SAFE_INTEGER, field = key): number | undefined {
  const v = o[key];
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'number' || !Number.isSafeInteger(v)) throw new ValidationError(`${field} must be an integer`);
  if (v < min || v > max) throw new ValidationError(`${field} must be between ${min} and ${max}, got ${v}`);
  return v;
}

export function optStringArray(o: Obj, key: string, field = key): string[] | undefined {
  const v = o[key];
  if (v === undefined || v === null) return undefined;
  if (!Array.isArray(v) || v.some((x) => typeof x !== 'string')) throw new ValidationError(`${field} must be an array of strings`);
  return v as string[];
}

/** Cleans an absolute virtual path ("/a/../b/" → "/b"); relative or NUL-containing paths are rejected. */
export function cleanAbsPath(p: string, field: string): string {
  if (p.includes('\0')) throw new ValidationError(`${field} contains a NUL byte`);
  const slashed = p.replace(/\\/g, '/');
  if (!slashed.startsWith('/')) throw new ValidationError(`${field} must be an absolute path, got "${p}"`);
  const cleaned = path.posix.normalize(slashed);
  return cleaned.length > 1 && cleaned.endsWith('/') ? cleaned.slice(0, -1) : cleaned;
}

/** Cleans an absolute filesystem path on this OS. */
export function cleanFsPath(p: string, field: string): string {
  if (p.includes('\0')) throw new ValidationError(`${field} contains a NUL byte`);
  if (!path.isAbsolute(p)) throw new ValidationError(`${field} must be an absolute path, got "${p}"`);
  const cleaned = path.normalize(p);
  return cleaned.length > 1 && /[\\/]$/.test(cleaned) ? cleaned.slice(0, -1) : cleaned;
}

export function checkCidrs(list: string[] | undefined, field: string): string[] | undefined {
  if (!list) return undefined;
  return list.map((c) => {
    const t = c.trim();
    if (!parseCidr(t)) throw new ValidationError(`${field}: could not parse "${c}" as an IP/mask (CIDR)`);
    return t;
  });
}

/** `a` equals or contains `b` as a path prefix. */
export function pathContains(a: string, b: string, sep = '/'): boolean {
  if (a === b) return true;
  const prefix = a.endsWith(sep) ? a : a + sep;
  return b.startsWith(prefix);
}

const USERNAME_RE = /^[a-zA-Z0-9\-_.~]+$/;

/**
 * Applies data_provider.naming_rules (bit 1 any UTF-8, 2 lowercase, 4 trim).
 * Separators and control characters are refused in every mode: names become
 * path components (home dirs, logs).
 */
export function normalizeName(raw: unknown, namingRules: number, field: string): string {
  if (typeof raw !== 'string') throw new ValidationError(`${field} is mandatory`);
  let name = raw;
  if (namingRules & 4) name = name.trim();
  if (namingRules & 2) name = name.toLowerCase();
  if (name === '') throw new ValidationError(`${field} is mandatory`);
  if (name.length > 255) throw new ValidationError(`${field} is too long (max 255 characters)`);
  // eslint-disable-next-line no-control-regex
  if (/[/\\\x00-\x1f\x7f]/.test(name) || name === '.' || name === '..') {
    throw new ValidationError(`${field} "${name}" contains characters that are not allowed`);
  }
  if (!(namingRules & 1) && !USERNAME_RE.test(name)) {
    throw new ValidationError(`${field} "${name}" is not valid, the following characters are allowed: a-zA-Z0-9-_.~`);
  }
  return name;
}

const EMAIL_RE = /^[^\s@]+@[^\s@]+\.[^\s@]+$/;

export function optEmail(o: Obj, key: string): string | undefined {
  const v = optString(o, key);
  if (v === undefined || v === '') return undefined;
  if (!EMAIL_RE.test(v) || v.length > 255) throw new ValidationError(`${key} "${v}" is not a valid email address`);
  return v;
}
