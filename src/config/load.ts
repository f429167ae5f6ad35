/**
 * loadConfig: defaults ← config file (JSON, YAML or TOML) ← env.d files ←
 * process env, then validation. Any problem is one ConfigError naming the
 * key (or file) and the value, so nothing starts half-configured.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import convict from 'convict';
import { load as loadYaml } from 'js-yaml';
import { parse as parseToml } from 'smol-toml';
import type { AppConfig } from './types';
import { ConfigError } from './errors';
import { appSchema } from './schema';
import { defaultsOf } from './schema/helpers';
import { mergeInto, validateTree, type Warn } from './normalize';
import { applyEnvOverrides, readEnvDir } from './env';
import { checkUnsupported } from './unsupported';

export interface LoadConfigOptions {
  configDir: string;
  /** absolute, or relative to configDir; empty = search `sftpgo.{json,yaml,yml,toml}` in configDir */
  configFile?: string;
  /** defaults to process.env */
  env?: Record<string, string | undefined>;
  /** non-fatal notes (unknown keys, no config file found) */
  onWarning?: Warn;
}

const EXTENSIONS = ['.json', '.yaml', '.yml', '.toml'];

export function loadConfig(opts: LoadConfigOptions): AppConfig {
  const warn: Warn = opts.onWarning ?? (() => undefined);
  const configDir = opts.configDir || '.';
  const schema = appSchema();
  const raw = defaultsOf(schema);
  const file = findConfigFile(configDir, opts.configFile ?? '');
  if (file) mergeInto(raw, parseConfigFile(file), schema, '', warn);
  else warn(`no configuration file found in ${path.resolve(configDir)}, using defaults`);
  const env = { ...readEnvDir(configDir, warn), ...(opts.env ?? process.env) };
  applyEnvOverrides(raw, schema, env, warn);
  validateTree(raw, schema, '');
  const config = finalCheck(raw, schema);
  checkUnsupported(config);
  return config;
}

/** convict's own validation of the complete tree: a second gate, and the typed result. */
function finalCheck(raw: Record<string, unknown>, schema: ReturnType<typeof appSchema>): AppConfig {
  try {
    const c = convict<AppConfig>(schema as unknown as convict.Schema<AppConfig>, { env: {}, args: [] });
    c.load(raw);
    c.validate({ allowed: 'strict' });
    return c.getProperties();
  } catch (err) {
    if (err instanceof ConfigError) throw err;
    throw new ConfigError((err as Error).message.split('\n')[0]);
  }
}

export function findConfigFile(configDir: string, configFile: string): string | undefined {
  if (configFile !== '') {
    const p = resolveConfigPath(configDir, configFile);
    if (!EXTENSIONS.includes(path.extname(p).toLowerCase())) {
      throw new ConfigError(`config file ${p}: unsupported extension, use one of ${EXTENSIONS.join(', ')}`);
    }
    return p;
  }
  for (const ext of EXTENSIONS) {
    const p = path.join(configDir, `sftpgo${ext}`);
    if (fs.existsSync(p)) return p;
  }
  return undefined;
}

export function parseConfigFile(file: string): unknown {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (err) {
    throw new ConfigError(`config file ${file}: cannot read: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
  }
  const ext = path.extname(file).toLowerCase();
  try {
    if (ext === '.json') return JSON.parse(text) as unknown;
    if (ext === '.toml') return parseToml(text);
    return loadYaml(text) ?? {};
  } catch (err) {
    const kind = ext === '.json' ? 'JSON' : ext === '.toml' ? 'TOML' : 'YAML';
    const msg = (err as Error).message.split('\n')[0];
    throw new ConfigError(`config file ${file}: invalid ${kind}: ${msg}`);
  }
}

/** Relative paths in the config (host keys, sqlite name, certs, templates…) are relative to the config dir. */
export function resolveConfigPath(configDir: string, p: string): string {
  if (p === '') return '';
  return path.isAbsolute(p) ? p : path.join(configDir, p);
}
