/**
 * The same file operations through FTP (basic-ftp), SFTP (ssh2, password
 * login), WebDAV (curl) and the REST user API (fetch with a user token), one login per operation, each returning the
 * protocol's own status so one table of cases can state "allowed" / "denied"
 * once and check every protocol's code.
 */
import { Readable, Writable } from 'node:stream';
import { Client, FTPError } from 'basic-ftp';
import { Client as SshClient, type SFTPWrapper } from 'ssh2';
import { curl, type CrossEnv } from './env';

export type Proto = 'FTP' | 'DAV' | 'SFTP' | 'HTTP';
export const PROTOCOLS: readonly Proto[] = ['FTP', 'DAV', 'SFTP', 'HTTP'];

export type Result = { ok: true; body: string } | { ok: false; code: number; body: string };

export interface Driver {
  name: Proto;
  /** the code for "permission denied" */
  denied: number;
  /** the code for a refused login (SFTP: -1, the client's authentication failure) */
  authFailed: number;
  /** only the login */
  login(): Promise<Result>;
  /** the code for "quota exceeded" */
  quota: number;
  list(dir: string): Promise<Result>;
  download(file: string): Promise<Result>;
  upload(file: string, data: Buffer, opts?: { chunked?: boolean }): Promise<Result>;
  removeFile(file: string): Promise<Result>;
  removeDir(dir: string): Promise<Result>;
  mkdir(dir: string): Promise<Result>;
  rename(from: string, to: string): Promise<Result>;
  /** WebDAV COPY; FTP has none (undefined) */
  copy?(from: string, to: string): Promise<Result>;
  /** the code for "the storage cannot do this" (FTP and SFTP; WebDAV and the user API have none of the operations below) */
  unsupported?: number;
  /** FTP SITE SYMLINK, SFTP SYMLINK */
  symlink?(target: string, link: string): Promise<Result>;
  /** FTP SITE CHMOD, SFTP SETSTAT with a mode */
  chmod?(file: string, mode: number): Promise<Result>;
  /** an upload that resumes an existing file at its end: FTP APPE, SFTP OPEN with append and no truncate */
  append?(file: string, data: Buffer): Promise<Result>;
}

export function ftpDriver(env: CrossEnv, user: string, password: string): Driver {
  const run = async (fn: (c: Client) => Promise<string | void>): Promise<Result> => {
    const c = new Client(15_000);
    try {
      await c.access({ host: '127.0.0.1', port: env.ftpPort, user, password });
      const body = await fn(c);
      return { ok: true, body: body ?? '' };
    } catch (e) {
      if (e instanceof FTPError) return { ok: false, code: e.code, body: e.message };
      throw e;
    } finally {
      c.close();
    }
  };
  return {
    name: 'FTP', denied: 550, quota: 552, authFailed: 530,
    login: () => run(async () => undefined),
    list: (dir) => run(async (c) => (await c.list(dir)).map((f) => f.name).join('\n')),
    download: (file) => run(async (c) => {
      const chunks: Buffer[] = [];
      await c.downloadTo(new Writable({ write: (ch: Buffer, _e, cb) => { chunks.push(ch); cb(); } }), file);
      return Buffer.concat(chunks).toString('utf8');
    }),
    upload: (file, data) => run(async (c) => { await c.uploadFrom(Readable.from([data]), file); }),
    removeFile: (file) => run(async (c) => { await c.remove(file); }),
    removeDir: (dir) => run(async (c) => { await c.send(`RMD ${dir}`); }),
    mkdir: (dir) => run(async (c) => { await c.send(`MKD ${dir}`); }),
    rename: (from, to) => run(async (c) => { await c.rename(from, to); }),
    unsupported: 504,
    symlink: (target, link) => run(async (c) => { await c.send(`SITE SYMLINK ${target} ${link}`); }),
    chmod: (file, mode) => run(async (c) => { await c.send(`SITE CHMOD ${mode.toString(8)} ${file}`); }),
    append: (file, data) => run(async (c) => { await c.appendFrom(Readable.from([data]), file); }),
  };
}

export function davDriver(env: CrossEnv, user: string, password: string): Driver {
  const auth = ['-u', `${user}:${password}`];
  const url = (p: string): string => `${env.davUrl}${p.startsWith('/') ? '' : '/'}${p}`;
  const run = async (args: string[], input?: Buffer): Promise<Result> => {
    const r = await curl([...auth, ...args], input);
    return r.status >= 200 && r.status < 300 ? { ok: true, body: r.body } : { ok: false, code: r.status, body: r.body };
  };
  return {
    name: 'DAV', denied: 403, quota: 507, authFailed: 401,
    login: () => run(['-X', 'PROPFIND', '-H', 'Depth: 0', url('/')]),
    list: (dir) => run(['-X', 'PROPFIND', '-H', 'Depth: 1', url(dir)]),
    download: (file) => run([url(file)]),
    // -T - streams stdin chunked (size unknown); --data-binary sends a Content-Length
    upload: (file, data, opts) => run(opts?.chunked
      ? ['-T', '-', url(file)]
      : ['-X', 'PUT', '-H', 'Content-Type: application/octet-stream', '--data-binary', '@-', url(file)], data),
    removeFile: (file) => run(['-X', 'DELETE', url(file)]),
    removeDir: (dir) => run(['-X', 'DELETE', url(dir)]),
    mkdir: (dir) => run(['-X', 'MKCOL', url(dir)]),
    // a Destination that starts with a scheme is sent as is (another host), else it is made absolute on this server
    rename: (from, to) => run(['-X', 'MOVE', '-H', `Destination: ${/^https?:/.test(to) ? to : url(to)}`, url(from)]),
    copy: (from, to) => run(['-X', 'COPY', '-H', `Destination: ${/^https?:/.test(to) ? to : url(to)}`, url(from)]),
  };
}

/** ssh2 reports an SFTP status as err.code (3 permission denied, 4 failure, 2 no such file) */
function sftpCode(e: unknown): number {
  const code = (e as { code?: unknown }).code;
  return typeof code === 'number' ? code : 4;
}

const sftpCall = <T>(fn: (cb: (err: Error | null | undefined, v?: T) => void) => void): Promise<T | undefined> =>
  new Promise((resolve, reject) => fn((err, v) => (err ? reject(err) : resolve(v))));

export function sftpDriver(env: CrossEnv, user: string, password: string): Driver {
  const run = (fn: (s: SFTPWrapper) => Promise<string | void>): Promise<Result> => new Promise((resolve, reject) => {
    const c = new SshClient();
    let done = false;
    const finish = (r: Result | Error): void => {
      if (done) return;
      done = true;
      c.end();
      if (r instanceof Error) reject(r); else resolve(r);
    };
    c.on('error', (e: Error & { level?: string }) => {
      finish(e.level === 'client-authentication' ? { ok: false, code: -1, body: e.message } : e);
    });
    c.on('ready', () => c.sftp((err, s) => {
      if (err) { finish({ ok: false, code: 4, body: err.message }); return; }
      fn(s).then((body) => finish({ ok: true, body: body ?? '' }), (e: unknown) => finish({ ok: false, code: sftpCode(e), body: String(e) }));
    }));
    c.connect({ host: '127.0.0.1', port: env.sftpPort, username: user, password, readyTimeout: 30_000, tryKeyboard: false });
  });
  return {
    name: 'SFTP', denied: 3, quota: 4, authFailed: -1,
    login: () => run(async () => undefined),
    list: (dir) => run(async (s) => ((await sftpCall<{ filename: string }[]>((cb) => s.readdir(dir, cb))) ?? []).map((e) => e.filename).join('\n')),
    // OPEN + READ until EOF (ssh2's readFile would FSTAT the handle too, and a stat needs list)
    download: (file) => run(async (s) => {
      const handle = await sftpCall<Buffer>((cb) => s.open(file, 'r', cb));
      if (!handle) throw new Error('no handle');
      const chunks: Buffer[] = [];
      try {
        for (let pos = 0, i = 0; i < 10_000; i++) {
          const buf = Buffer.alloc(32768);
          const n = await new Promise<number>((resolve, reject) => s.read(handle, buf, 0, buf.length, pos, (err, bytes) => {
            // ssh2 reports end of file as an error with code 1 (SSH_FX_EOF)
            if (err) { if ((err as { code?: unknown }).code === 1) resolve(0); else reject(err); return; }
            resolve(bytes);
          }));
          if (n === 0) break;
          chunks.push(buf.subarray(0, n));
          pos += n;
        }
      } finally {
        await sftpCall((cb) => s.close(handle, cb)).catch(() => undefined);
      }
      return Buffer.concat(chunks).toString('utf8');
    }),
    upload: (file, data) => run(async (s) => { await sftpCall((cb) => s.writeFile(file, data, cb)); }),
    removeFile: (file) => run(async (s) => { await sftpCall((cb) => s.unlink(file, cb)); }),
    removeDir: (dir) => run(async (s) => { await sftpCall((cb) => s.rmdir(dir, cb)); }),
    mkdir: (dir) => run(async (s) => { await sftpCall((cb) => s.mkdir(dir, cb)); }),
    rename: (from, to) => run(async (s) => { await sftpCall((cb) => s.rename(from, to, cb)); }),
    unsupported: 8,
    // the server reads SYMLINK in OpenSSH's order (target first, as SFTPGo does); ssh2 only swaps for an OpenSSH banner
    symlink: (target, link) => run(async (s) => { await sftpCall((cb) => s.symlink(link, target, cb)); }),
    chmod: (file, mode) => run(async (s) => { await sftpCall((cb) => s.chmod(file, mode, cb)); }),
    append: (file, data) => run(async (s) => {
      const size = (await sftpCall<{ size: number }>((cb) => s.stat(file, cb)))?.size ?? 0;
      // 'a': WRITE|APPEND|CREAT without TRUNC, the resume of an existing file
      const handle = await sftpCall<Buffer>((cb) => s.open(file, 'a', cb));
      if (!handle) throw new Error('no handle');
      try {
        await sftpCall((cb) => s.write(handle, data, 0, data.length, size, cb));
      } finally {
        await sftpCall((cb) => s.close(handle, cb)).catch(() => undefined);
      }
    }),
  };
}

/**
 * The REST user API: GET /api/v2/user/token (basic auth) is the login, then one
 * bearer request per operation (token fetched again per operation, like the other
 * drivers log in again, so a login rule is checked every time).
 */
export function httpUserDriver(env: CrossEnv, user: string, password: string): Driver {
  const basic = `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`;
  const token = async (): Promise<Result> => {
    const r = await fetch(`${env.httpUrl}/api/v2/user/token`, { headers: { authorization: basic } });
    const text = await r.text();
    if (r.status !== 200) return { ok: false, code: r.status, body: text };
    return { ok: true, body: (JSON.parse(text) as { access_token: string }).access_token };
  };
  // chunked: the body is a stream of unknown length (Transfer-Encoding: chunked), else a Buffer with a Content-Length
  const run = async (method: string, route: string, query: Record<string, string>, body?: Buffer, chunked = false): Promise<Result> => {
    const login = await token();
    if (!login.ok) return login;
    const headers: Record<string, string> = { authorization: `Bearer ${login.body}` };
    if (body) headers['content-type'] = 'application/octet-stream';
    const payload = body && chunked ? { body: Readable.toWeb(Readable.from([body])) as ReadableStream<Uint8Array>, duplex: 'half' as const } : { body };
    const r = await fetch(`${env.httpUrl}/api/v2/user/${route}?${new URLSearchParams(query).toString()}`, { method, headers, ...payload });
    const text = await r.text();
    return r.status >= 200 && r.status < 300 ? { ok: true, body: text } : { ok: false, code: r.status, body: text };
  };
  const names = (r: Result): Result => (r.ok
    ? { ok: true, body: (JSON.parse(r.body) as { name: string }[]).map((e) => e.name).join('\n') } : r);
  return {
    name: 'HTTP', denied: 403, quota: 413, authFailed: 401,
    login: token,
    list: async (dir) => names(await run('GET', 'dirs', { path: dir })),
    download: (file) => run('GET', 'files', { path: file }),
    upload: (file, data, opts) => run('POST', 'files/upload', { path: file }, data, opts?.chunked),
    removeFile: (file) => run('DELETE', 'files', { path: file }),
    removeDir: (dir) => run('DELETE', 'dirs', { path: dir }),
    mkdir: (dir) => run('POST', 'dirs', { path: dir }),
    rename: (from, to) => run('POST', 'file-actions/move', { path: from, target: to }),
    copy: (from, to) => run('POST', 'file-actions/copy', { path: from, target: to }),
  };
}

/** The driver of a protocol for one user. */
export function driverFor(proto: Proto, env: CrossEnv, user: string, password: string): Driver {
  if (proto === 'FTP') return ftpDriver(env, user, password);
  if (proto === 'DAV') return davDriver(env, user, password);
  if (proto === 'HTTP') return httpUserDriver(env, user, password);
  return sftpDriver(env, user, password);
}
