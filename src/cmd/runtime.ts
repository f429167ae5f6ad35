/** Flags shared by the commands that run with a config dir, mapped to RuntimeOptions. */
import type { RuntimeOptions } from '../config/types';
import type { FlagSpec, FlagValues } from './args';

export const configFlags: FlagSpec[] = [
  { name: 'config-dir', short: 'c', type: 'string', env: 'SFTPGO_CONFIG_DIR', default: '.', help: 'location of the config dir; relative paths in the config are resolved against it' },
  { name: 'config-file', type: 'string', env: 'SFTPGO_CONFIG_FILE', default: '', help: 'config file (json, toml, yaml, yml, properties, hcl, env...), absolute or relative to the config dir' },
];

export function logFlags(defaultPath: string): FlagSpec[] {
  return [
    { name: 'log-file-path', short: 'l', type: 'string', env: 'SFTPGO_LOG_FILE_PATH', default: defaultPath, help: 'log file, relative to the config dir; empty = stderr' },
    { name: 'log-level', short: 'L', type: 'string', env: 'SFTPGO_LOG_LEVEL', default: 'debug', help: 'debug, info, warn or error' },
    { name: 'log-max-size', type: 'int', env: 'SFTPGO_LOG_MAX_SIZE', default: 10, help: 'MB before rotation' },
    { name: 'log-max-backups', type: 'int', env: 'SFTPGO_LOG_MAX_BACKUPS', default: 5, help: 'rotated files to keep' },
    { name: 'log-max-age', type: 'int', env: 'SFTPGO_LOG_MAX_AGE', default: 28, help: 'days to keep rotated files' },
    { name: 'log-compress', type: 'bool', env: 'SFTPGO_LOG_COMPRESS', default: false, help: 'gzip rotated files' },
    { name: 'log-utc-time', type: 'bool', env: 'SFTPGO_LOG_UTC_TIME', default: false, help: 'UTC timestamps in logs' },
  ];
}

export const serveExtraFlags: FlagSpec[] = [
  { name: 'grace-time', type: 'int', env: 'SFTPGO_GRACE_TIME', default: 0, help: 'seconds to let transfers finish on shutdown; 0 = disconnect at once' },
  { name: 'workers', type: 'int', env: 'SFTPGO_WORKERS', default: -1, help: 'worker processes on the same listeners (needs data_provider.is_shared 1); 0 = one per core with a shared provider; -1 = common.workers' },
  { name: 'loaddata-from', type: 'string', env: 'SFTPGO_LOADDATA_FROM', default: '', help: 'dump file to load at startup' },
  { name: 'loaddata-mode', type: 'int', env: 'SFTPGO_LOADDATA_MODE', default: 1, help: '0 add and update, 1 add only, 2 add, update and disconnect' },
  { name: 'loaddata-clean', type: 'bool', env: 'SFTPGO_LOADDATA_CLEAN', default: false, help: 'remove the dump file after loading' },
  { name: 'loaddata-scan', type: 'int', env: 'SFTPGO_LOADDATA_QUOTA_SCAN', default: 0, help: 'quota scan after loading: 0 none, 1 all, 2 users with quota' },
];

export function runtimeFrom(f: FlagValues): RuntimeOptions {
  return {
    configDir: String(f['config-dir'] ?? '.'),
    configFile: String(f['config-file'] ?? ''),
    logFilePath: String(f['log-file-path'] ?? ''),
    logLevel: String(f['log-level'] ?? 'debug'),
    logMaxSize: Number(f['log-max-size'] ?? 10),
    logMaxBackups: Number(f['log-max-backups'] ?? 5),
    logMaxAge: Number(f['log-max-age'] ?? 28),
    logCompress: f['log-compress'] === true,
    logUTCTime: f['log-utc-time'] === true,
    graceTime: Number(f['grace-time'] ?? 0),
    workers: Number(f['workers'] ?? -1),
    loadDataFrom: String(f['loaddata-from'] ?? ''),
    loadDataMode: Number(f['loaddata-mode'] ?? 1),
    loadDataClean: f['loaddata-clean'] === true,
    loadDataQuotaScan: Number(f['loaddata-scan'] ?? 0),
  };
}
