/**
 * Typed access to an urlencoded (or multipart) form body. Values a browser
 * cannot produce (wrong types, huge numbers) become clear ValidationErrors
 * with the field's label, never crashes.
 */
import { ValidationError } from '../../dataprovider/validation';

export type FormBody = Record<string, string | string[] | undefined>;

const SIZE_UNITS: Record<string, number> = { '': 1, B: 1, KB: 1024, MB: 1024 ** 2, GB: 1024 ** 3, TB: 1024 ** 4 };

export class Form {
  constructor(readonly body: FormBody) {}

  static of(body: unknown): Form {
    if (body === null || typeof body !== 'object' || Array.isArray(body)) return new Form({});
    const out: FormBody = {};
    for (const [k, v] of Object.entries(body as Record<string, unknown>)) {
      if (typeof v === 'string') out[k] = v;
      else if (Array.isArray(v)) out[k] = v.filter((x): x is string => typeof x === 'string');
    }
    return new Form(out);
  }

  /** the first value, trimmed unless asked not to (passwords) */
  str(name: string, trim = true): string {
    const v = this.body[name];
    const s = Array.isArray(v) ? (v[0] ?? '') : (v ?? '');
    return trim ? s.trim() : s;
  }

  all(name: string): string[] {
    const v = this.body[name];
    if (v === undefined) return [];
    return (Array.isArray(v) ? v : [v]).map((s) => s.trim()).filter((s) => s !== '');
  }

  has(name: string): boolean {
    return this.body[name] !== undefined;
  }

  int(name: string, label: string, min = 0): number {
    const s = this.str(name);
    if (s === '') return 0;
    if (!/^-?\d+$/.test(s)) throw new ValidationError(`${label}: "${s}" is not a whole number`);
    const n = Number(s);
    if (!Number.isSafeInteger(n) || n < min) throw new ValidationError(`${label}: ${s} is out of range`);
    return n;
  }

  /** bytes, with an optional KB/MB/GB/TB suffix (powers of 1024) */
  size(name: string, label: string, min = 0): number {
    const s = this.str(name).toUpperCase().replace(/\s+/g, '');
    if (s === '') return 0;
    const m = /^(-?\d+(?:\.\d+)?)(B|KB|MB|GB|TB)?$/.exec(s);
    if (!m) throw new ValidationError(`${label}: "${this.str(name)}" is not a size (examples: 500, 20MB, 1.5GB)`);
    const n = Math.round(Number(m[1]) * SIZE_UNITS[m[2] ?? '']);
    if (!Number.isSafeInteger(n) || n < min) throw new ValidationError(`${label}: ${this.str(name)} is out of range`);
    return n;
  }

  /** comma or newline separated list */
  csv(name: string): string[] {
    return this.str(name).split(/[,\n]/).map((s) => s.trim()).filter((s) => s !== '');
  }

  /** yyyy-mm-dd → Unix ms at 00:00 UTC; empty → 0 */
  date(name: string, label: string): number {
    const s = this.str(name);
    if (s === '') return 0;
    const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(s);
    const ms = m ? Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3])) : NaN;
    if (!Number.isFinite(ms)) throw new ValidationError(`${label}: "${s}" is not a date (yyyy-mm-dd)`);
    return ms;
  }

  /**
   * Indexes of dynamic rows named `<prefix>_<n>_<field>` (rows added by the
   * page script). Bounded so a crafted form cannot make us loop for long.
   */
  rows(prefix: string, field: string, max = 200): number[] {
    const re = new RegExp(`^${prefix}_(\\d{1,4})_${field}$`);
    const out = new Set<number>();
    for (const k of Object.keys(this.body)) {
      const m = re.exec(k);
      if (m) out.add(Number(m[1]));
      if (out.size > max) throw new ValidationError(`too many ${prefix} rows (at most ${max})`);
    }
    return [...out].sort((a, b) => a - b);
  }
}
