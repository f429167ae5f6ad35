/**
 * The same file operations through FTP (basic-ftp, one login per operation)
 * WebDAV (curl) and the REST user API (fetch with a user token), each returning the protocol's own status so one table
 * of cases can state "allowed" / "denied" once and check both codes.
 */
import { Readable, Writable } from 'node:stream';
import { Client, FTPError } from 'basic-ftp';
import { curl, type CrossEnv } from './env';

export type Result = { ok: true; body: string } | { ok: false; code: number; body: string };

export interface Driver {
  name: 'FTP' | 'DAV' | 'HTTP';
  /** the code for "permission denied" */
  denied: number;
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
    name: 'FTP', denied: 550, quota: 552,
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
    name: 'DAV', denied: 403, quota: 507,
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

export function httpUserDriver(env: CrossEnv, user: string, password: string): Driver {
  let token: string | undefined;
  const auth = async (): Promise<string> => {
    if (token) return token;
    const r = await fetch(`${env.httpUrl}/api/v2/user/token`, { headers: { authorization: `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}` } });
    if (r.status !== 200) throw new Error(`user token refused: ${r.status} ${await r.text()}`);
    token = ((await r.json()) as { access_token: string }).access_token;
    return token;
  };
  const run = async (method: string, route: string, query: Record<string, string>, body?: Buffer): Promise<Result> => {
    const qs = new URLSearchParams(query).toString();
    const headers: Record<string, string> = { authorization: `Bearer ${await auth()}` };
    if (body) headers['content-type'] = 'application/octet-stream';
    const r = await fetch(`${env.httpUrl}/api/v2/user/${route}?${qs}`, { method, headers, body });
    const text = await r.text();
    return r.status >= 200 && r.status < 300 ? { ok: true, body: text } : { ok: false, code: r.status, body: text };
  };
  return {
    name: 'HTTP', denied: 403, quota: 413,
    list: (dir) => run('GET', 'dirs', { path: dir }),
    download: (file) => run('GET', 'files', { path: file }),
    upload: (file, data) => run('POST', 'files/upload', { path: file }, data),
    removeFile: (file) => run('DELETE', 'files', { path: file }),
    removeDir: (dir) => run('DELETE', 'dirs', { path: dir }),
    mkdir: (dir) => run('POST', 'dirs', { path: dir }),
    rename: (from, to) => run('POST', 'file-actions/move', { path: from, target: to }),
    copy: (from, to) => run('POST', 'file-actions/copy', { path: from, target: to }),
  };
}
