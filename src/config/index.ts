export { loadConfig, resolveConfigPath, type LoadConfigOptions } from './load';
export { findConfigFile, parseConfigFile, CONFIG_EXTENSIONS } from './formats';
export { ConfigError } from './errors';
export { PROVIDER_DRIVERS } from './schema/provider';
export { parseEnvFile, readEnvDir } from './env';
export type * from './types';
