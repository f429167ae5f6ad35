/**
 * Small builders for the convict schema. Each leaf carries a `kind` so the
 * env-override and normalisation code (env.ts, normalize.ts) know how to
 * parse strings and where lists of structs are, without a second schema.
 */
import type convict from 'convict';

export type Kind = 'str' | 'int' | 'bool' | 'strList' | 'intList' | 'structList';

export interface LeafSchema extends convict.SchemaObj {
  kind: Kind;
  /** item schema of a structList */
  children?: SchemaTree;
}

export interface SchemaTree {
  [key: string]: LeafSchema | SchemaTree;
}

export function isLeaf(n: LeafSchema | SchemaTree): n is LeafSchema {
  return typeof (n as LeafSchema).kind === 'string' && 'default' in n && 'format' in n;
}

/** convict appends the value only when it is truthy; add it ourselves for falsy ones. */
function fail(msg: string, x: unknown): never {
  throw new Error(x ? msg : `${msg}: value was ${JSON.stringify(x)}`);
}

export function str(d = '', doc?: string): LeafSchema {
  return {
    kind: 'str',
    default: d,
    doc,
    format: (x: unknown) => {
      if (typeof x !== 'string') fail('must be a string', x);
    },
  };
}

export function int(d: number, min = Number.MIN_SAFE_INTEGER, max = Number.MAX_SAFE_INTEGER): LeafSchema {
  return {
    kind: 'int',
    default: d,
    format: (x: unknown) => {
      if (typeof x !== 'number' || !Number.isInteger(x)) fail('must be an integer', x);
      if (x < min || x > max) fail(`must be between ${min} and ${max}`, x);
    },
  };
}

export const port = (d: number): LeafSchema => int(d, 0, 65535);
export const nat = (d: number): LeafSchema => int(d, 0);

export function bool(d: boolean): LeafSchema {
  return {
    kind: 'bool',
    default: d,
    format: (x: unknown) => {
      if (typeof x !== 'boolean') fail('must be a boolean (true/false)', x);
    },
  };
}

export function oneOf(d: string, values: readonly string[]): LeafSchema {
  return {
    kind: 'str',
    default: d,
    format: (x: unknown) => {
      if (typeof x !== 'string' || !values.includes(x)) fail(`must be one of ${values.map((v) => `"${v}"`).join(', ')}`, x);
    },
  };
}

export function intOneOf(d: number, values: readonly number[]): LeafSchema {
  return {
    kind: 'int',
    default: d,
    format: (x: unknown) => {
      if (typeof x !== 'number' || !values.includes(x)) fail(`must be one of ${values.join(', ')}`, x);
    },
  };
}

export function strList(d: string[] = []): LeafSchema {
  return {
    kind: 'strList',
    default: d,
    format: (x: unknown) => {
      if (!Array.isArray(x) || x.some((v) => typeof v !== 'string')) fail('must be a list of strings', x);
    },
  };
}

export function intList(d: number[] = []): LeafSchema {
  return {
    kind: 'intList',
    default: d,
    format: (x: unknown) => {
      if (!Array.isArray(x) || x.some((v) => typeof v !== 'number' || !Number.isInteger(v))) fail('must be a list of integers', x);
    },
  };
}

/** Defaults of a schema subtree as a plain object (fresh copies: callers mutate). */
export function defaultsOf(tree: SchemaTree): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, n] of Object.entries(tree)) {
    out[k] = isLeaf(n) ? structuredClone(n.default) : defaultsOf(n);
  }
  return out;
}

/**
 * A list of structs (bindings, rate limiters…). `items` are partial entries
 * of the default list; missing keys take the item defaults.
 */
export function structList(children: SchemaTree, items: Record<string, unknown>[] = []): LeafSchema {
  return {
    kind: 'structList',
    children,
    default: items.map((i) => ({ ...defaultsOf(children), ...i })),
    format: (x: unknown) => {
      if (!Array.isArray(x) || x.some((v) => typeof v !== 'object' || v === null || Array.isArray(v))) {
        fail('must be a list of objects', x);
      }
    },
  };
}
