/**
 * SFTPGo's environment overrides: `SFTPGO_<SECTION>__<KEY>__...` where `__`
 * nests, a list-of-struct index is a path segment (an index past the end
 * appends an entry with defaults), simple lists are comma-separated and
 * booleans follow Go's strconv.ParseBool. Also `env.d/*.env` files.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { ConfigError } from './errors';
import { isLeaf, defaultsOf, type LeafSchema, type SchemaTree } from './schema/helpers';
import { joinPath, splitList, type Warn } from './normalize';

type Obj = Record<string, unknown>;
const TRUE = new Set(['1', 't', 'T', 'TRUE', 'true', 'True']);
const FALSE = new Set(['0', 'f', 'F', 'FALSE', 'false', 'False']);

export function applyEnvOverrides(raw: Obj, tree: SchemaTree, env: Record<string, string | undefined>, warn: Warn): void {
  const keys = Object.keys(env)
    .filter((k) => k.startsWith('SFTPGO_') && k.includes('__') && env[k] !== undefined)
    // numeric-aware order so BINDINGS__1 is appended before BINDINGS__2
    .sort((a, b) => a.localeCompare(b, 'en', { numeric: true }));
  applyFlatSettings(raw, tree, keys.map((envKey) => ({
    segs: envKey.slice('SFTPGO_'.length).toLowerCase().split('__'),
    value: env[envKey] as string,
    label: envKey,
    unknown: `environment variable ${envKey} does not match a configuration key, ignored`,
  })), warn);
}

/** One string setting addressed by key segments (an env var, a properties or dotenv line). */
export interface FlatSetting {
  segs: string[];
  value: string;
  /** prefix of error messages: the env var name, or file and line */
  label: string;
  /** warning when the key matches nothing */
  unknown: string;
}

/**
 * Applies string settings onto the tree, converting each value by its leaf's
 * kind; a list index past the end appends an entry with defaults.
 */
export function applyFlatSettings(raw: Obj, tree: SchemaTree, settings: FlatSetting[], warn: Warn): void {
  const st: ListState = { origLen: new Map(), appended: new Map() };
  for (const s of settings) applyOne(raw, tree, s, st, warn);
}

interface ListState { origLen: Map<string, number>; appended: Map<string, number> }

function applyOne(raw: Obj, tree: SchemaTree, setting: FlatSetting, st: ListState, warn: Warn): void {
  const { segs, value, label: envKey } = setting;
  let node: SchemaTree = tree;
  let obj: Obj = raw;
  let p = '';
  for (let i = 0; i < segs.length; i++) {
    const seg = segs[i];
    const child = node[seg];
    if (child === undefined) {
      warn(setting.unknown);
      return;
    }
    p = joinPath(p, seg);
    const last = i === segs.length - 1;
    if (!isLeaf(child)) {
      if (last) throw new ConfigError(`${envKey}: ${p} is a section, set its keys instead`);
      node = child;
      obj = obj[seg] as Obj;
      continue;
    }
    if (child.kind === 'structList' && child.children) {
      if (last) throw new ConfigError(`${envKey}: ${p} is a list, set its entries as ${envKey}__<index>__<key>`);
      const idxSeg = segs[++i];
      if (!/^\d+$/.test(idxSeg)) throw new ConfigError(`${envKey}: list index must be a number: value was "${idxSeg}"`);
      const list = obj[seg] as Obj[];
      if (!st.origLen.has(p)) st.origLen.set(p, list.length);
      const idx = resolveIndex(list, Number(idxSeg), p, child.children, st);
      p = `${p}[${idx}]`;
      if (i === segs.length - 1) throw new ConfigError(`${envKey}: ${p} is an object, set its keys instead`);
      node = child.children;
      obj = list[idx];
      continue;
    }
    if (!last) {
      warn(setting.unknown);
      return;
    }
    obj[seg] = parseEnvValue(child, value, envKey, p);
  }
}

/** Existing entry, or an appended one (the same env index always maps to the same appended entry). */
function resolveIndex(list: Obj[], envIdx: number, listPath: string, children: SchemaTree, st: ListState): number {
  const orig = st.origLen.get(listPath) ?? list.length;
  if (envIdx < orig) return envIdx;
  const key = `${listPath}#${envIdx}`;
  const known = st.appended.get(key);
  if (known !== undefined) return known;
  list.push(defaultsOf(children));
  st.appended.set(key, list.length - 1);
  return list.length - 1;
}

function parseEnvValue(leaf: LeafSchema, v: string, envKey: string, p: string): unknown {
  const shown = leaf.sensitive ? '' : `: value was "${v}"`;
  switch (leaf.kind) {
    case 'int': {
      const t = v.trim();
      if (!/^-?\d+$/.test(t)) throw new ConfigError(`${envKey} (${p}): must be an integer${shown}`);
      return Number(t);
    }
    case 'bool': {
      const t = v.trim();
      if (TRUE.has(t)) return true;
      if (FALSE.has(t)) return false;
      throw new ConfigError(`${envKey} (${p}): must be a boolean (true/false/1/0)${shown}`);
    }
    case 'strList':
      return splitList(v);
    case 'intList': {
      const items = splitList(v);
      if (items.some((i) => !/^-?\d+$/.test(i))) throw new ConfigError(`${envKey} (${p}): must be a comma-separated list of integers${shown}`);
      return items.map(Number);
    }
    default:
      return v;
  }
}

/** Parses `KEY=value` lines (comments, `export `, quotes) like godotenv. */
export function parseEnvFile(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const rawLine of text.split(/\r?\n/)) {
    let line = rawLine.trim();
    if (line === '' || line.startsWith('#')) continue;
    if (line.startsWith('export ')) line = line.slice('export '.length).trim();
    const eq = line.indexOf('=');
    if (eq <= 0) continue;
    const key = line.slice(0, eq).trim();
    let value = line.slice(eq + 1).trim();
    const q = value[0];
    if ((q === '"' || q === "'") && value.length >= 2 && value.endsWith(q)) {
      value = value.slice(1, -1);
      if (q === '"') value = value.replace(/\\n/g, '\n').replace(/\\"/g, '"');
    } else {
      const hash = value.indexOf(' #');
      if (hash >= 0) value = value.slice(0, hash).trim();
    }
    out[key] = value;
  }
  return out;
}

/** Variables from `<configDir>/env.d/*.env`, files in name order (later files win). */
export function readEnvDir(configDir: string, warn: Warn): Record<string, string> {
  const dir = path.join(configDir, 'env.d');
  let names: string[];
  try {
    names = fs.readdirSync(dir).filter((n) => n.endsWith('.env')).sort();
  } catch {
    return {};
  }
  const out: Record<string, string> = {};
  for (const n of names) {
    try {
      Object.assign(out, parseEnvFile(fs.readFileSync(path.join(dir, n), 'utf8')));
    } catch (err) {
      warn(`cannot read env file ${path.join(dir, n)}: ${(err as Error).message}`);
    }
  }
  return out;
}

