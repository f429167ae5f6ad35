export { loadConfig, resolveConfigPath, findConfigFile, parseConfigFile, type LoadConfigOptions } from './load';
export { ConfigError } from './errors';
export { PROVIDER_DRIVERS } from './schema/provider';
export { parseEnvFile, readEnvDir } from './env';
export type * from './types';
