/**
 * The runtime view of an SFTPGo `sftpconfig` (JSON names as SFTPGo's
 * SFTPFsConfig): endpoint with its port, credentials left as stored (the kms
 * decrypts them when the connection opens), the prefix as the root.
 */
import * as path from 'node:path';
import type { StoredSecret as Secret } from '../fs';
import { isSecret } from '../s3/config';

export interface SftpFsOptions {
  /** host:port */
  endpoint: string;
  username: string;
  password?: Secret;
  privateKey?: Secret;
  keyPassphrase?: Secret;
  /** accepted host key fingerprints ("SHA256:..."); empty accepts any key (logged, as SFTPGo) */
  fingerprints: string[];
  /** the remote directory that is the root: clean, absolute */
  prefix: string;
  disableConcurrentReads: boolean;
  /** MB, 0 = unbuffered (random writes and resume allowed) */
  bufferSize: number;
  equalityCheckMode: number;
}

const str = (o: Record<string, unknown>, k: string): string => (typeof o[k] === 'string' ? (o[k] as string).trim() : '');
const num = (o: Record<string, unknown>, k: string): number => (typeof o[k] === 'number' && Number.isFinite(o[k]) ? (o[k] as number) : 0);

/** SFTPGo: an endpoint without a port gets ":22". */
export function endpointWithPort(raw: string): string {
  if (raw.startsWith('[')) return raw.includes(']:') ? raw : `${raw}:22`;
  return raw.includes(':') ? raw : `${raw}:22`;
}

/** SFTPGo util.CleanPath: absolute and clean, "" is "/". */
export function cleanPrefix(raw: string): string {
  return path.posix.normalize('/' + raw).replace(/(.)\/+$/, '$1');
}

export function sftpFsOptions(cfg: Record<string, unknown>, subpath?: string): SftpFsOptions {
  let prefix = cleanPrefix(str(cfg, 'prefix'));
  // SFTPGo WithSubPath: a folder's subpath extends the prefix
  if (subpath && subpath !== '/') prefix = path.posix.join(prefix, subpath);
  const fps = Array.isArray(cfg.fingerprints) ? cfg.fingerprints.filter((f): f is string => typeof f === 'string' && f.trim() !== '') : [];
  return {
    endpoint: endpointWithPort(str(cfg, 'endpoint')),
    username: str(cfg, 'username'),
    password: isSecret(cfg.password) ? cfg.password : undefined,
    privateKey: isSecret(cfg.private_key) ? cfg.private_key : undefined,
    keyPassphrase: isSecret(cfg.key_passphrase) ? cfg.key_passphrase : undefined,
    fingerprints: fps.map((f) => f.trim()),
    prefix,
    disableConcurrentReads: cfg.disable_concurrent_reads === true,
    bufferSize: Math.min(Math.max(num(cfg, 'buffer_size'), 0), 16),
    equalityCheckMode: num(cfg, 'equality_check_mode') === 1 ? 1 : 0,
  };
}

/** host and port of an endpoint ("[::1]:22", "h:2022") */
export function splitEndpoint(endpoint: string): { host: string; port: number } {
  const m = /^\[([^\]]+)\]:(\d+)$/.exec(endpoint) ?? /^([^:]+):(\d+)$/.exec(endpoint);
  if (!m) return { host: endpoint, port: 22 };
  return { host: m[1], port: Number(m[2]) };
}
