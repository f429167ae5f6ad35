/**
 * Parsers for the connection strings SFTPGo users already have in
 * data_provider.connection_string: libpq's (keyword/value or postgres:// URI)
 * and the Go MySQL driver's DSN. Both become plain key/value maps that
 * options.ts checks key by key, so an unknown setting is refused, not ignored.
 */

/** libpq keyword/value form: `host=db port=5432 password='a b\'c'`. */
function parseKeywordValue(dsn: string, name: string): Map<string, string> {
  const out = new Map<string, string>();
  let i = 0;
  const n = dsn.length;
  const skipSpaces = (): void => { while (i < n && /\s/.test(dsn[i]!)) i++; };
  while (true) {
    skipSpaces();
    if (i >= n) break;
    const eq = dsn.indexOf('=', i);
    // the position only: the text may hold a password
    if (eq < 0) throw new Error(`${name}: expected "key=value" at character ${i + 1}`);
    const key = dsn.slice(i, eq).trim();
    i = eq + 1;
    skipSpaces();
    let value = '';
    if (dsn[i] === "'") {
      i++;
      while (i < n && dsn[i] !== "'") {
        if (dsn[i] === '\\' && i + 1 < n) i++;
        value += dsn[i];
        i++;
      }
      if (i >= n) throw new Error(`${name}: unterminated quoted value for "${key}"`);
      i++;
    } else {
      while (i < n && !/\s/.test(dsn[i]!)) {
        if (dsn[i] === '\\' && i + 1 < n) i++;
        value += dsn[i];
        i++;
      }
    }
    out.set(key, value);
  }
  return out;
}

/** postgres:// or postgresql:// URI into libpq keywords. */
function parsePgUri(dsn: string, name: string): Map<string, string> {
  let url: URL;
  try {
    url = new URL(dsn);
  } catch {
    throw new Error(`${name}: not a valid postgres:// URI`);
  }
  const out = new Map<string, string>();
  if (url.hostname) out.set('host', decodeURIComponent(url.hostname));
  if (url.port) out.set('port', url.port);
  if (url.username) out.set('user', decodeURIComponent(url.username));
  if (url.password) out.set('password', decodeURIComponent(url.password));
  const db = decodeURIComponent(url.pathname.replace(/^\//, ''));
  if (db) out.set('dbname', db);
  for (const [k, v] of url.searchParams) out.set(k, v);
  return out;
}

export function parsePgConnectionString(dsn: string, name: string): Map<string, string> {
  return /^postgres(ql)?:\/\//i.test(dsn) ? parsePgUri(dsn, name) : parseKeywordValue(dsn, name);
}

export interface MysqlDsn {
  user: string;
  password: string;
  /** `tcp` (host:port) or `unix` (socket path) */
  net: string;
  address: string;
  database: string;
  params: Map<string, string>;
}

/** Go MySQL driver DSN: `[user[:password]@][net[(address)]]/dbname[?param=value&...]`. */
export function parseMysqlDsn(dsn: string, name: string): MysqlDsn {
  const slash = dsn.lastIndexOf('/');
  if (slash < 0) throw new Error(`${name}: expected "user:password@tcp(host:port)/dbname"`);
  const head = dsn.slice(0, slash);
  const tail = dsn.slice(slash + 1);
  const at = head.lastIndexOf('@');
  const userInfo = at >= 0 ? head.slice(0, at) : '';
  const netPart = at >= 0 ? head.slice(at + 1) : head;
  const colon = userInfo.indexOf(':');
  const m = /^(\w*)(?:\((.*)\))?$/.exec(netPart);
  if (!m) throw new Error(`${name}: cannot parse the network part "${netPart}"`);
  const q = tail.indexOf('?');
  const params = new Map<string, string>();
  if (q >= 0) for (const [k, v] of new URLSearchParams(tail.slice(q + 1))) params.set(k, v);
  return {
    user: colon >= 0 ? userInfo.slice(0, colon) : userInfo,
    password: colon >= 0 ? userInfo.slice(colon + 1) : '',
    net: m[1] || 'tcp',
    address: m[2] ?? '',
    database: decodeURIComponent(q >= 0 ? tail.slice(0, q) : tail),
    params,
  };
}
