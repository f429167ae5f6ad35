/**
 * Merging a parsed config file onto the defaults, and validating the result
 * leaf by leaf with the schema's convict format functions so every error
 * names its exact key (`sftpd.bindings[1].port`) and value.
 */
import { ConfigError } from './errors';
import { defaultsOf, isLeaf, type LeafSchema, type SchemaTree } from './schema/helpers';

export type Warn = (msg: string) => void;
type Obj = Record<string, unknown>;

export function isPlainObject(v: unknown): v is Obj {
  return typeof v === 'object' && v !== null && !Array.isArray(v) && !(v instanceof Date);
}

export function joinPath(base: string, key: string): string {
  return base === '' ? key : `${base}.${key}`;
}

/** Copies `src` (from a file) onto `target` (defaults). Unknown keys are ignored with a warning, as SFTPGo does. */
export function mergeInto(target: Obj, src: unknown, tree: SchemaTree, path: string, warn: Warn): void {
  if (!isPlainObject(src)) {
    throw new ConfigError(`${path || 'configuration'}: must be an object: value was ${JSON.stringify(src)}`);
  }
  for (const [rawKey, value] of Object.entries(src)) {
    // viper (SFTPGo) matches keys case-insensitively
    const key = rawKey.toLowerCase();
    const node = tree[key];
    const p = joinPath(path, key);
    if (node === undefined) {
      warn(`unknown configuration key "${joinPath(path, rawKey)}" ignored`);
      continue;
    }
    if (!isLeaf(node)) {
      mergeInto(target[key] as Obj, value, node, p, warn);
    } else if (node.kind === 'structList' && node.children && Array.isArray(value)) {
      const children = node.children;
      target[key] = value.map((item, i) => {
        const entry = defaultsOf(children);
        mergeInto(entry, item, children, `${p}[${i}]`, warn);
        return entry;
      });
    } else if (node.kind === 'strList' && typeof value === 'string') {
      target[key] = splitList(value);
    } else {
      target[key] = value;
    }
  }
}

export function splitList(v: string): string[] {
  return v.split(',').map((s) => s.trim()).filter((s) => s !== '');
}

/** Throws a ConfigError for the first invalid value. */
export function validateTree(obj: Obj, tree: SchemaTree, path: string): void {
  for (const [key, node] of Object.entries(tree)) {
    const p = joinPath(path, key);
    const value = obj[key];
    if (!isLeaf(node)) {
      if (!isPlainObject(value)) throw new ConfigError(`${p}: must be an object: value was ${JSON.stringify(value)}`);
      validateTree(value, node, p);
      continue;
    }
    checkLeaf(node, value, p);
    if (node.kind === 'structList' && node.children && Array.isArray(value)) {
      value.forEach((item, i) => validateTree(item as Obj, node.children as SchemaTree, `${p}[${i}]`));
    }
  }
}

function checkLeaf(node: LeafSchema, value: unknown, p: string): void {
  const format = node.format;
  if (typeof format !== 'function') return;
  try {
    (format as (v: unknown) => void)(value);
  } catch (err) {
    const msg = (err as Error).message;
    const shown = node.sensitive ? '' : msg.includes('value was') ? '' : `: value was ${JSON.stringify(value)}`;
    throw new ConfigError(`${p}: ${msg}${shown}`);
  }
}
