/**
 * The runtime view of an SFTPGo `httpconfig` (HTTPFsConfig JSON names):
 * where the HTTPFs service answers and how to authenticate. SFTPGo's
 * endpoint rules: http:// or https:// only, trailing slashes dropped, and
 * the UNIX domain socket form `http(s)://unix?socket_path=/abs&api_prefix=/v1`
 * (host "unix", the API path taken from api_prefix). Credentials stay
 * sealed here; the kms decrypts them at the first request.
 */
import * as path from 'node:path';
import type { StoredSecret as Secret } from '../fs';
import { hasSecretValue, isSecret } from '../s3/config';

export interface HttpFsOptions {
  /** the endpoint as configured, for logs (it never carries credentials: validation refuses them) */
  endpoint: string;
  secure: boolean;
  /** TCP host and port; unused with a socket path */
  host: string;
  port: number;
  /** a UNIX domain socket instead of TCP */
  socketPath?: string;
  /** the API path every operation is appended to: "" or "/api/v1" (no trailing slash) */
  basePath: string;
  username: string;
  password?: Secret;
  apiKey?: Secret;
  skipTlsVerify: boolean;
  equalityCheckMode: number;
}

/** Why an endpoint cannot be used, or its parts. */
export type EndpointParse =
  | { ok: true; secure: boolean; host: string; port: number; socketPath?: string; basePath: string }
  | { ok: false; reason: string };

const trimSlashes = (p: string): string => p.replace(/\/+$/, '');

/** SFTPGo HTTPFsConfig.validate's endpoint rules, plus what this client cannot honour (credentials or a query in the URL). */
export function parseEndpoint(raw: string): EndpointParse {
  const endpoint = trimSlashes(raw.trim());
  if (endpoint === '') return { ok: false, reason: 'endpoint cannot be empty' };
  if (!endpoint.startsWith('http://') && !endpoint.startsWith('https://')) {
    return { ok: false, reason: 'invalid endpoint schema: http and https are supported' };
  }
  let url: URL;
  try {
    url = new URL(endpoint);
  } catch {
    return { ok: false, reason: `invalid endpoint ${JSON.stringify(endpoint)}` };
  }
  if (url.username !== '' || url.password !== '') {
    return { ok: false, reason: 'the endpoint cannot carry credentials: use username and password' };
  }
  if (url.hash !== '') return { ok: false, reason: 'the endpoint cannot have a fragment' };
  const secure = url.protocol === 'https:';
  if (url.hostname === 'unix') {
    const socketPath = url.searchParams.get('socket_path') ?? '';
    if (!path.isAbsolute(socketPath)) return { ok: false, reason: `invalid unix domain socket path: ${JSON.stringify(socketPath)}` };
    const prefix = url.searchParams.get('api_prefix') ?? '';
    const basePath = trimSlashes(path.posix.join('/', url.pathname, prefix));
    return { ok: true, secure, host: 'localhost', port: secure ? 443 : 80, socketPath, basePath };
  }
  // every operation is appended to the path: a query string would end up before it
  if (url.search !== '') return { ok: false, reason: 'the endpoint cannot have a query string (only the unix socket form has one)' };
  const port = url.port === '' ? (secure ? 443 : 80) : Number(url.port);
  const host = url.hostname.startsWith('[') ? url.hostname.slice(1, -1) : url.hostname;
  return { ok: true, secure, host, port, basePath: trimSlashes(url.pathname) };
}

const str = (o: Record<string, unknown>, k: string): string => (typeof o[k] === 'string' ? (o[k] as string).trim() : '');

/** Options from a stored (validated) httpconfig; an endpoint that does not parse is kept for the backend to refuse. */
export function httpFsOptions(cfg: Record<string, unknown>): HttpFsOptions {
  const endpoint = trimSlashes(str(cfg, 'endpoint'));
  const parsed = parseEndpoint(endpoint);
  const where = parsed.ok ? parsed : { secure: false, host: '', port: 0, socketPath: undefined, basePath: '' };
  return {
    endpoint,
    secure: where.secure,
    host: where.host,
    port: where.port,
    ...(where.socketPath ? { socketPath: where.socketPath } : {}),
    basePath: where.basePath,
    // as given: a basic-auth user name is not trimmed (SFTPGo neither)
    username: typeof cfg.username === 'string' ? cfg.username : '',
    // an empty secret (SFTPGo's IsEmpty) is no credential, nothing to decrypt
    password: isSecret(cfg.password) && hasSecretValue(cfg.password) ? cfg.password : undefined,
    apiKey: isSecret(cfg.api_key) && hasSecretValue(cfg.api_key) ? cfg.api_key : undefined,
    skipTlsVerify: cfg.skip_tls_verify === true,
    equalityCheckMode: cfg.equality_check_mode === 1 ? 1 : 0,
  };
}
