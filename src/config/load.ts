/**
 * loadConfig: defaults ← config file (JSON, TOML, YAML, properties, HCL or
 * dotenv, see formats/) ← env.d files ←
 * process env, then validation. Any problem is one ConfigError naming the
 * key (or file) and the value, so nothing starts half-configured.
 */
import * as path from 'node:path';
import convict from 'convict';
import type { AppConfig } from './types';
import { ConfigError } from './errors';
import { appSchema } from './schema';
import { defaultsOf } from './schema/helpers';
import { mergeInto, validateTree, type Warn } from './normalize';
import { applyEnvOverrides, applyFlatSettings, readEnvDir } from './env';
import { findConfigFile, parseConfigFile } from './formats';
import { checkUnsupported } from './unsupported';

export interface LoadConfigOptions {
  configDir: string;
  /** absolute, or relative to configDir; empty = search `sftpgo.<ext>` in configDir (formats/CONFIG_EXTENSIONS) */
  configFile?: string;
  /** defaults to process.env */
  env?: Record<string, string | undefined>;
  /** non-fatal notes (unknown keys, no config file found) */
  onWarning?: Warn;
}

export function loadConfig(opts: LoadConfigOptions): AppConfig {
  const warn: Warn = opts.onWarning ?? (() => undefined);
  const configDir = opts.configDir || '.';
  const schema = appSchema();
  const raw = defaultsOf(schema);
  const ignored: string[] = [];
  const file = findConfigFile(configDir, opts.configFile ?? '', (other) => ignored.push(other));
  for (const other of ignored) warn(`config file ${other} ignored: ${file ?? 'another file'} comes first in the lookup order`);
  if (file) {
    const parsed = parseConfigFile(file, schema);
    if (parsed.kind === 'tree') mergeInto(raw, parsed.value, schema, '', warn);
    else applyFlatSettings(raw, schema, parsed.settings, warn);
  } else {
    warn(`no configuration file found in ${path.resolve(configDir)}, using defaults`);
  }
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

/** Relative paths in the config (host keys, sqlite name, certs, templates…) are relative to the config dir. */
export function resolveConfigPath(configDir: string, p: string): string {
  if (p === '') return '';
  return path.isAbsolute(p) ? p : path.join(configDir, p);
}
