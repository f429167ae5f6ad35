/**
 * SFTPGo's data_provider keys (or its connection_string) turned into pg and
 * mysql2 pool options. What the Node drivers cannot do the way SFTPGo's do
 * (libpq's prefer/allow fallback, several hosts, target_session_attrs other
 * than any, MySQL's "preferred" TLS) stops start-up naming the key.
 */
import { readFileSync } from 'node:fs';
import { isIP } from 'node:net';
import type { PoolConfig } from 'pg';
import type { PoolOptions } from 'mysql2';
import type { ConnectionOptions as TlsOptions } from 'node:tls';
import type { DataProviderConfig } from '../../config/types';
import { parseMysqlDsn, parsePgConnectionString } from './dsn';

const KEY = 'data_provider';
/** SFTPGo: connect_timeout=10 (PostgreSQL) and timeout=10s (MySQL). */
const CONNECT_TIMEOUT_MS = 10_000;
/** SFTPGo's pool: connections live 240 s at most and are closed after 120 s idle. */
const MAX_LIFETIME_S = 240;
const IDLE_TIMEOUT_MS = 120_000;
/** SFTPGo bounds long provider queries at 60 s: a database that stops answering mid-query fails the call instead of hanging it. */
export const QUERY_TIMEOUT_MS = 60_000;
/** pool_size 0 means "driver default" in SFTPGo (Go's unbounded pool); Node's pools need a bound. */
const DEFAULT_POOL_SIZE = 10;

export class ProviderSettingError extends Error {}

function refuse(key: string, why: string): never {
  throw new ProviderSettingError(`${key}: ${why}`);
}

function readFileFor(key: string, file: string): string {
  try {
    return readFileSync(file, 'utf8');
  } catch (e) {
    return refuse(key, `cannot read "${file}": ${(e as Error).message}`);
  }
}

/** data_provider.password, or the first line of password_file when set (SFTPGo reads the file and trims it). */
export function providerPassword(cfg: DataProviderConfig): string {
  if (!cfg.password_file) return cfg.password;
  return readFileFor(`${KEY}.password_file`, cfg.password_file).trim();
}

function poolSize(cfg: DataProviderConfig): number {
  return cfg.pool_size > 0 ? cfg.pool_size : DEFAULT_POOL_SIZE;
}

/** Node's codes for a server certificate that does not verify (chain or name). */
const SERVER_CERT_REFUSED = new Set(['SELF_SIGNED_CERT_IN_CHAIN', 'DEPTH_ZERO_SELF_SIGNED_CERT', 'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'UNABLE_TO_GET_ISSUER_CERT', 'UNABLE_TO_GET_ISSUER_CERT_LOCALLY', 'CERT_UNTRUSTED', 'CERT_SIGNATURE_FAILURE', 'CERT_HAS_EXPIRED',
  'CERT_NOT_YET_VALID', 'ERR_TLS_CERT_ALTNAME_INVALID']);

/**
 * A TLS failure on the way to the database, said in terms of the keys to fix: the
 * driver's bare "self-signed certificate in certificate chain" names none of them.
 */
export function explainTlsFailure(e: unknown): unknown {
  // the TLS error may come wrapped ("data provider unavailable: ...", FsError cause)
  let tlsError: unknown = e;
  for (let i = 0; i < 4 && tlsError instanceof Error && !(tlsError as NodeJS.ErrnoException).code; i++) tlsError = tlsError.cause;
  if (!(tlsError instanceof Error)) return e;
  const code = (tlsError as NodeJS.ErrnoException).code ?? '';
  // mysql2 overwrites the TLS error's code with its own: then the message tells an alert from a refused certificate
  const mysqlHandshake = code === 'HANDSHAKE_SSL_ERROR';
  const alert = /^ERR_SSL_(TLSV1|SSLV3)_ALERT_/.test(code) || (mysqlHandshake && /alert/i.test(tlsError.message));
  if (SERVER_CERT_REFUSED.has(code) || (mysqlHandshake && !alert)) {
    return new Error(`${KEY}: the database server's TLS certificate was refused (${tlsError.message}): root_cert must be the CA ` +
      'that signed it, and with sslmode verify-full the host must be a name the certificate carries', { cause: e });
  }
  if (alert) {
    const what = mysqlHandshake ? /alert [\w ]+/i.exec(tlsError.message)?.[0] ?? code : code;
    return new Error(`${KEY}: the database server ended the TLS handshake (${what}): check client_cert/client_key ` +
      '(a certificate its CA signed) and the server\'s TLS settings', { cause: e });
  }
  return e;
}

// --- PostgreSQL ---

const PG_SSL_MODES = ['disable', 'require', 'verify-ca', 'verify-full', 'prefer', 'allow'];
/** libpq keywords a connection_string may use; anything else is refused. */
const PG_DSN_KEYS = new Set(['host', 'port', 'dbname', 'user', 'password', 'sslmode', 'sslrootcert', 'sslcert', 'sslkey',
  'sslsni', 'target_session_attrs', 'connect_timeout', 'application_name']);

interface PgSettings {
  host: string; port: number; database: string; user: string; password: string;
  sslmode: string; rootCert: string; clientCert: string; clientKey: string; sni: boolean; targetSessionAttrs: string;
}

function pgFromConnectionString(cfg: DataProviderConfig): PgSettings {
  const key = `${KEY}.connection_string`;
  const kv = parsePgConnectionString(cfg.connection_string, key);
  for (const k of kv.keys()) if (!PG_DSN_KEYS.has(k)) refuse(key, `the "${k}" setting is not supported`);
  const port = Number(kv.get('port') ?? '5432');
  if (!Number.isInteger(port) || port <= 0 || port > 65535) refuse(key, `invalid port "${kv.get('port')}"`);
  return {
    host: kv.get('host') ?? 'localhost', port, database: kv.get('dbname') ?? '', user: kv.get('user') ?? '',
    password: kv.get('password') ?? '', sslmode: kv.get('sslmode') ?? 'prefer', rootCert: kv.get('sslrootcert') ?? '',
    clientCert: kv.get('sslcert') ?? '', clientKey: kv.get('sslkey') ?? '', sni: kv.get('sslsni') !== '0',
    targetSessionAttrs: kv.get('target_session_attrs') ?? '',
  };
}

function pgFromKeys(cfg: DataProviderConfig): PgSettings {
  const sslmode = PG_SSL_MODES[cfg.sslmode];
  if (sslmode === undefined) refuse(`${KEY}.sslmode`, `${cfg.sslmode} is not a PostgreSQL mode (0-5)`);
  return {
    host: cfg.host, port: cfg.port || 5432, database: cfg.name, user: cfg.username, password: providerPassword(cfg),
    sslmode, rootCert: cfg.root_cert, clientCert: cfg.client_cert && cfg.client_key ? cfg.client_cert : '',
    clientKey: cfg.client_cert && cfg.client_key ? cfg.client_key : '', sni: !cfg.disable_sni,
    targetSessionAttrs: cfg.target_session_attrs,
  };
}

function pgTls(s: PgSettings, sslKey: string): PoolConfig['ssl'] {
  if (s.sslmode === 'disable') return false;
  if (s.sslmode === 'prefer' || s.sslmode === 'allow') {
    refuse(sslKey, `"${s.sslmode}" needs a fallback between TLS and plain connections that the PostgreSQL driver ` +
      'does not have: use disable, require, verify-ca or verify-full');
  }
  if (!['require', 'verify-ca', 'verify-full'].includes(s.sslmode)) refuse(sslKey, `unknown sslmode "${s.sslmode}"`);
  // Node always sends SNI for a host name; an IP address never carries it, so only that case can honour disable_sni
  if (!s.sni && !/^[\d.]+$|:/.test(s.host)) {
    refuse(`${KEY}.disable_sni`, 'the PostgreSQL driver always sends SNI to a host name: use the server\'s IP address or enable SNI');
  }
  const tls: TlsOptions = {};
  if (s.rootCert) tls.ca = readFileFor(`${KEY}.root_cert`, s.rootCert);
  if (s.clientCert) {
    tls.cert = readFileFor(`${KEY}.client_cert`, s.clientCert);
    tls.key = readFileFor(`${KEY}.client_key`, s.clientKey);
  }
  // libpq: require checks nothing (but verifies the chain when a root cert is given), verify-ca skips the host name
  tls.rejectUnauthorized = s.sslmode !== 'require' || s.rootCert !== '';
  if (s.sslmode !== 'verify-full') tls.checkServerIdentity = () => undefined;
  return tls;
}

export function pgPoolConfig(cfg: DataProviderConfig): PoolConfig {
  const fromDsn = cfg.connection_string !== '';
  const s = fromDsn ? pgFromConnectionString(cfg) : pgFromKeys(cfg);
  const hostKey = fromDsn ? `${KEY}.connection_string` : `${KEY}.host`;
  if (s.host.includes(',')) refuse(hostKey, 'several hosts are not supported by the PostgreSQL driver: put one host (or a proxy) here');
  if (s.targetSessionAttrs !== '' && s.targetSessionAttrs !== 'any') {
    refuse(fromDsn ? hostKey : `${KEY}.target_session_attrs`,
      `"${s.targetSessionAttrs}" is not supported (one host only): leave it empty or set "any"`);
  }
  if (!s.database) refuse(fromDsn ? hostKey : `${KEY}.name`, 'the database name is required');
  return {
    host: s.host || 'localhost', port: s.port, database: s.database, user: s.user, password: s.password,
    ssl: pgTls(s, fromDsn ? hostKey : `${KEY}.sslmode`),
    max: poolSize(cfg), connectionTimeoutMillis: CONNECT_TIMEOUT_MS, idleTimeoutMillis: IDLE_TIMEOUT_MS,
    maxLifetimeSeconds: MAX_LIFETIME_S, application_name: 'sftpgo-ts', query_timeout: QUERY_TIMEOUT_MS,
  };
}

// --- MySQL / MariaDB ---

/** Go-driver DSN parameters that either match what we do anyway or only tune timeouts. */
const MYSQL_HARMLESS_PARAMS = new Set(['collation', 'charset', 'interpolateParams', 'parseTime', 'clientFoundRows',
  'timeout', 'readTimeout', 'writeTimeout', 'loc', 'maxAllowedPacket']);

function mysqlTls(mode: string, cfg: DataProviderConfig, key: string, host: string): PoolOptions['ssl'] {
  if (mode === 'false') return undefined;
  if (mode === 'preferred') {
    refuse(key, '"preferred" (try TLS, fall back to plain) is not supported by the MySQL driver: use 0 (off), 1 (verify) or 2 (skip-verify)');
  }
  if (!['true', 'skip-verify', 'custom'].includes(mode)) refuse(key, `unknown TLS mode "${mode}"`);
  const verify = mode !== 'skip-verify';
  // Go's driver also checks the host against the certificate (ServerName = host). mysql2 does it only when told,
  // and for a host name only: with an IP address it would compare the certificate with "localhost", so there the
  // chain is checked and the address is not (README)
  const ssl: NonNullable<Exclude<PoolOptions['ssl'], string>> = { rejectUnauthorized: verify, verifyIdentity: verify && isIP(host) === 0 };
  if (cfg.root_cert) ssl.ca = readFileFor(`${KEY}.root_cert`, cfg.root_cert);
  if (cfg.client_cert && cfg.client_key) {
    ssl.cert = readFileFor(`${KEY}.client_cert`, cfg.client_cert);
    ssl.key = readFileFor(`${KEY}.client_key`, cfg.client_key);
  }
  return ssl;
}

const MYSQL_SSL_MODES = ['false', 'true', 'skip-verify', 'preferred'];

export function mysqlPoolOptions(cfg: DataProviderConfig): PoolOptions {
  const base: PoolOptions = {
    connectionLimit: poolSize(cfg), connectTimeout: CONNECT_TIMEOUT_MS, idleTimeout: IDLE_TIMEOUT_MS,
    maxIdle: poolSize(cfg), charset: 'utf8mb4_unicode_ci', supportBigNumbers: true, waitForConnections: true,
    enableKeepAlive: true,
  };
  if (cfg.connection_string) {
    const key = `${KEY}.connection_string`;
    const dsn = parseMysqlDsn(cfg.connection_string, key);
    for (const k of dsn.params.keys()) {
      if (k !== 'tls' && !MYSQL_HARMLESS_PARAMS.has(k)) refuse(key, `the "${k}" parameter is not supported`);
    }
    if (!dsn.database) refuse(key, 'the database name is required');
    const where: PoolOptions = dsn.net === 'unix' ? { socketPath: dsn.address } : (() => {
      const m = /^\[?([^\]]*?)\]?(?::(\d+))?$/.exec(dsn.address || '127.0.0.1:3306');
      if (dsn.net !== 'tcp' || !m) return refuse(key, `unsupported network "${dsn.net}(${dsn.address})"`);
      return { host: m[1] || '127.0.0.1', port: Number(m[2] ?? '3306') };
    })();
    return { ...base, ...where, user: dsn.user, password: dsn.password, database: dsn.database,
      ssl: mysqlTls(dsn.params.get('tls') ?? 'false', cfg, key, where.host ?? '') };
  }
  const mode = MYSQL_SSL_MODES[cfg.sslmode];
  if (mode === undefined) refuse(`${KEY}.sslmode`, `${cfg.sslmode} is not a MySQL mode (0-3)`);
  if (!cfg.name) refuse(`${KEY}.name`, 'the database name is required');
  const host = cfg.host || '127.0.0.1';
  // Node sends SNI for a host name and never for an IP address
  if (cfg.disable_sni && mode !== 'false' && !/^[\d.]+$|:/.test(host)) {
    refuse(`${KEY}.disable_sni`, 'the MySQL driver always sends SNI to a host name: use the server\'s IP address or enable SNI');
  }
  return {
    ...base, host, port: cfg.port || 3306, user: cfg.username, password: providerPassword(cfg),
    database: cfg.name, ssl: mysqlTls(mode, cfg, `${KEY}.sslmode`, host),
  };
}
