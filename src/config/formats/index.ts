/**
 * Finding and reading the config file in every format SFTPGo (viper) reads:
 * JSON, TOML, YAML, Java properties, HCL and dotenv. A file that cannot be
 * read or parsed is one ConfigError naming the file, the line and column.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { lazy } from '../../util/lazy';
import { parse as parseToml, TomlError } from 'smol-toml';
import { ConfigError } from '../errors';
import { isLeaf, type SchemaTree } from '../schema/helpers';
import { isPlainObject } from '../normalize';
import type { FlatSetting } from '../env';
import { HclSyntaxError, parseHcl } from './hcl';
import { FlatSyntaxError, parseDotenv, parseProperties, type FlatLine } from './flat';
import { locateJsonError } from './json-position';

// YAML configs are rare: the parser loads when one is read
const jsYaml = lazy(() => require('js-yaml') as typeof import('js-yaml'));

/** viper's search order for `sftpgo.<ext>` in the config dir. */
export const CONFIG_EXTENSIONS = ['.json', '.toml', '.yaml', '.yml', '.properties', '.props', '.prop', '.hcl', '.tfvars', '.dotenv', '.env'];

export type ParsedConfig =
  | { kind: 'tree'; value: unknown }
  | { kind: 'flat'; settings: FlatSetting[] };

/**
 * The file to load: the given one (absolute or relative to the config dir),
 * else the first `sftpgo.<ext>` found; the others found are reported through
 * `onIgnored` so an admin who left two files knows which one counts.
 */
export function findConfigFile(configDir: string, configFile: string, onIgnored: (file: string) => void = () => undefined): string | undefined {
  if (configFile !== '') {
    const p = path.isAbsolute(configFile) ? configFile : path.join(configDir, configFile);
    if (!CONFIG_EXTENSIONS.includes(path.extname(p).toLowerCase())) {
      throw new ConfigError(`config file ${p}: unsupported extension, use one of ${CONFIG_EXTENSIONS.join(', ')}`);
    }
    return p;
  }
  const found = CONFIG_EXTENSIONS.map((ext) => path.join(configDir, `sftpgo${ext}`)).filter((p) => {
    try {
      return fs.statSync(p).isFile();
    } catch {
      return false;
    }
  });
  for (const other of found.slice(1)) onIgnored(other);
  return found[0];
}

function formatOf(ext: string): string {
  switch (ext) {
    case '.json': return 'JSON';
    case '.toml': return 'TOML';
    case '.yaml': case '.yml': return 'YAML';
    case '.hcl': case '.tfvars': return 'HCL';
    case '.env': case '.dotenv': return 'dotenv';
    default: return 'properties';
  }
}

/** Reads and parses one config file; `tree` is the schema, used to fold HCL blocks into sections. */
export function parseConfigFile(file: string, tree: SchemaTree): ParsedConfig {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (err) {
    throw new ConfigError(`config file ${file}: cannot read: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
  }
  const format = formatOf(path.extname(file).toLowerCase());
  const bad = (msg: string, line?: number, column?: number): ConfigError => {
    const where = line === undefined ? '' : column === undefined ? ` at line ${line}` : ` at line ${line}, column ${column}`;
    return new ConfigError(`config file ${file}: invalid ${format}${where}: ${msg}`);
  };
  try {
    switch (format) {
      case 'JSON':
        return { kind: 'tree', value: JSON.parse(text) as unknown };
      case 'TOML':
        return { kind: 'tree', value: parseToml(text) };
      case 'YAML':
        return { kind: 'tree', value: jsYaml().load(text) ?? {} };
      case 'HCL':
        return { kind: 'tree', value: foldBlocks(parseHcl(text), tree) };
      case 'dotenv':
        return { kind: 'flat', settings: toSettings(parseDotenv(text), file) };
      default:
        return { kind: 'flat', settings: toSettings(parseProperties(text), file) };
    }
  } catch (err) {
    if (err instanceof ConfigError) throw err;
    if (err instanceof HclSyntaxError) throw bad(err.message, err.line, err.column);
    if (err instanceof FlatSyntaxError) throw bad(err.message, err.line);
    if (err instanceof TomlError) throw bad(err.message.replace(/^Invalid TOML document: /, '').split('\n')[0], err.line, err.column);
    if (err instanceof jsYaml().YAMLException) throw err.mark ? bad(err.reason, err.mark.line + 1, err.mark.column + 1) : bad(err.reason);
    if (format === 'JSON') {
      const at = locateJsonError(text);
      if (at) throw bad(at.what, at.line, at.column);
    }
    throw bad((err as Error).message.split('\n')[0]);
  }
}

function toSettings(lines: FlatLine[], file: string): FlatSetting[] {
  return lines.map((l) => ({
    segs: l.key.toLowerCase().split('.'),
    value: l.value,
    label: `config file ${file} line ${l.line}`,
    unknown: `config file ${file} line ${l.line}: unknown configuration key "${l.key}" ignored`,
  }));
}

/**
 * HCL gives every block as a list of objects. Where the schema has a section
 * the list is merged into one object (a section written twice is an error);
 * where it has a list of structs (bindings) the blocks are its entries.
 */
function foldBlocks(value: unknown, tree: SchemaTree, at = ''): unknown {
  if (!isPlainObject(value)) return value;
  const out: Record<string, unknown> = {};
  for (const [rawKey, v] of Object.entries(value)) {
    const node = tree[rawKey.toLowerCase()];
    const p = at === '' ? rawKey : `${at}.${rawKey}`;
    if (node === undefined) {
      out[rawKey] = v;
    } else if (!isLeaf(node)) {
      let section = v;
      if (Array.isArray(v)) {
        if (v.length !== 1) throw new ConfigError(`${p}: the section is written ${v.length} times, write it once`);
        section = v[0];
      }
      out[rawKey] = foldBlocks(section, node, p);
    } else if (node.kind === 'structList' && node.children) {
      const children = node.children;
      const items = Array.isArray(v) ? v : [v];
      out[rawKey] = items.map((item, i) => foldBlocks(item, children, `${p}[${i}]`));
    } else {
      out[rawKey] = v;
    }
  }
  return out;
}
