/**
 * `sftpgo portable`'s flags (SFTPGo's names, defaults and short forms) and
 * their translation into PortableOptions: the account (credentials, start
 * directory, file patterns), the listeners (SFTP always; FTP and WebDAV with
 * a port (SFTP unless negative), TLS with a certificate and key; the web client with --httpd-*),
 * the SSH commands, multicast DNS, the storage flags of portable-fs.ts, and
 * --config-dir/--config-file for the settings portable mode does not set.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import type { FilePatternFilter } from '../dataprovider/models';
import { UsageError, type FlagSpec, type FlagValues } from './args';
import { PORTABLE_FS_FLAGS, portableFilesystem } from './portable-fs';
import type { PortableOptions } from './portable';
import { configFlags, runtimeFrom } from './runtime';

const PATTERNS_HELP = 'repeatable "/dir::pattern1,pattern2", e.g. "/somedir::*.jpg,a*b?.png"';

export const PORTABLE_FLAGS: FlagSpec[] = [
  { name: 'directory', short: 'd', type: 'string', default: '.', help: 'directory to serve' },
  { name: 'start-directory', type: 'string', default: '/', help: 'the directory clients start in' },
  { name: 'username', short: 'u', type: 'string', default: '', help: 'account name; random when empty' },
  { name: 'password', short: 'p', type: 'string', default: '', help: 'account password; random when empty and no public key' },
  { name: 'password-file', type: 'string', default: '', help: 'read the password from this file (surrounding white space removed)' },
  { name: 'public-key', short: 'k', type: 'list', default: [], help: 'authorized public key (repeatable)' },
  { name: 'permissions', short: 'g', type: 'string', default: 'list,download', help: 'comma-separated permissions, "*" for all' },
  { name: 'allowed-patterns', type: 'list', default: [], help: `allowed file patterns, ${PATTERNS_HELP}` },
  { name: 'denied-patterns', type: 'list', default: [], help: `denied file patterns, ${PATTERNS_HELP}` },
  { name: 'sftpd-port', short: 's', type: 'int', default: 0, help: 'SFTP port; 0 = a random free port, < 0 = no SFTP' },
  { name: 'ssh-commands', type: 'list', default: [], help: 'SSH commands to enable (comma-separated or repeated), "*" for all; empty = sftpd\'s default set' },
  { name: 'ftpd-port', type: 'int', default: -1, help: 'FTP port; 0 = a random free port, < 0 = no FTP' },
  { name: 'ftpd-cert', type: 'string', default: '', help: 'certificate file for FTPS (explicit TLS)' },
  { name: 'ftpd-key', type: 'string', default: '', help: 'key file for FTPS' },
  { name: 'webdav-port', type: 'int', default: -1, help: 'WebDAV port; 0 = a random free port, < 0 = no WebDAV' },
  { name: 'webdav-cert', type: 'string', default: '', help: 'certificate file for WebDAV over HTTPS' },
  { name: 'webdav-key', type: 'string', default: '', help: 'key file for WebDAV over HTTPS' },
  { name: 'httpd-port', type: 'int', default: -1, help: 'web client port for the account (no web admin, no REST API); 0 = a random free port, < 0 = no web client' },
  { name: 'httpd-cert', type: 'string', default: '', help: 'certificate file for the web client over HTTPS' },
  { name: 'httpd-key', type: 'string', default: '', help: 'key file for the web client over HTTPS' },
  { name: 'log-file-path', short: 'l', type: 'string', default: '', help: 'log file; empty = stderr' },
  { name: 'log-level', short: 'L', type: 'string', default: 'debug', help: 'debug, info, warn or error' },
  { name: 'log-utc-time', type: 'bool', default: false, help: 'log times in UTC' },
  { name: 'grace-time', type: 'int', default: 0, help: 'seconds running transfers get to finish on SIGTERM/SIGINT' },
  { name: 'advertise-service', short: 'S', type: 'bool', default: false, help: 'advertise the SFTP, FTP and WebDAV services with multicast DNS' },
  { name: 'advertise-credentials', short: 'C', type: 'bool', default: false, help: 'with -S, put the username and password in the advertised TXT records' },
  ...PORTABLE_FS_FLAGS,
  ...configFlags,
];

/** SFTPGo's "/dir::a,b" filters, allowed and denied merged per directory; a malformed value is an error naming the flag. */
export function parseFilePatterns(allowed: string[], denied: string[]): FilePatternFilter[] {
  const byDir = new Map<string, FilePatternFilter>();
  const add = (flag: string, raw: string, key: 'allowed_patterns' | 'denied_patterns'): void => {
    const sep = raw.indexOf('::');
    const dir = sep > 0 ? raw.slice(0, sep).trim() : '';
    const patterns = sep > 0 ? raw.slice(sep + 2).split(',').map((p) => p.trim()).filter((p) => p !== '') : [];
    if (dir === '' || patterns.length === 0) throw new UsageError(`--${flag} "${raw}": expected "/dir::pattern1,pattern2"`);
    const clean = path.posix.normalize(dir.startsWith('/') ? dir : `/${dir}`).replace(/(.)\/+$/, '$1');
    const entry = byDir.get(clean) ?? { path: clean, allowed_patterns: [], denied_patterns: [] };
    entry[key] = [...(entry[key] ?? []), ...patterns];
    byDir.set(clean, entry);
  };
  for (const a of allowed) add('allowed-patterns', a, 'allowed_patterns');
  for (const d of denied) add('denied-patterns', d, 'denied_patterns');
  return [...byDir.values()];
}

function readPasswordFile(file: string): string {
  try {
    return readFileSync(file, 'utf8').trim();
  } catch (e) {
    throw new UsageError(`--password-file ${file}: ${(e as Error).message}`);
  }
}

/** a TLS pair is both files or neither */
function tlsPair(f: FlagValues, cert: string, key: string): { cert: string; key: string } | undefined {
  const c = String(f[cert]);
  const k = String(f[key]);
  if ((c === '') !== (k === '')) throw new UsageError(`--${cert} and --${key} go together`);
  return c === '' ? undefined : { cert: path.resolve(c), key: path.resolve(k) };
}

export function portableOptions(f: FlagValues): PortableOptions {
  if (f['advertise-credentials'] === true && f['advertise-service'] !== true) {
    throw new UsageError('--advertise-credentials needs --advertise-service (-S): there is nothing to put the credentials in');
  }
  if (f['advertise-service'] === true && ['sftpd-port', 'ftpd-port', 'webdav-port'].every((p) => Number(f[p]) < 0)) {
    throw new UsageError('--advertise-service (-S) needs an SFTP, FTP or WebDAV listener: all three ports are negative (off)');
  }
  const passwordFile = String(f['password-file']);
  const list = (name: string): string[] => (f[name] as string[]).flatMap((v) => v.split(',')).map((v) => v.trim()).filter((v) => v !== '');
  return {
    directory: String(f.directory),
    startDirectory: String(f['start-directory']),
    username: String(f.username),
    password: passwordFile !== '' ? readPasswordFile(passwordFile) : String(f.password),
    publicKeys: f['public-key'] as string[],
    permissions: String(f.permissions).split(',').map((s) => s.trim()).filter((s) => s !== ''),
    filePatterns: parseFilePatterns(f['allowed-patterns'] as string[], f['denied-patterns'] as string[]),
    sftpdPort: Number(f['sftpd-port']),
    sshCommands: list('ssh-commands'),
    ftpdPort: Number(f['ftpd-port']),
    ftpTls: tlsPair(f, 'ftpd-cert', 'ftpd-key'),
    webdavPort: Number(f['webdav-port']),
    webdavTls: tlsPair(f, 'webdav-cert', 'webdav-key'),
    httpdPort: Number(f['httpd-port']),
    httpdTls: tlsPair(f, 'httpd-cert', 'httpd-key'),
    filesystem: portableFilesystem(f),
    advertiseService: f['advertise-service'] === true,
    advertiseCredentials: f['advertise-credentials'] === true,
    runtime: runtimeFrom({ ...f, 'log-max-size': 10, 'log-max-backups': 5, 'log-max-age': 28 }),
  };
}
