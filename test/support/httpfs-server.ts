/**
 * An HTTPFs service for tests, written from SFTPGo's openapi/httpfs.yaml:
 * it serves a temp directory (node:http, on a loopback port or a UNIX
 * socket, optionally over TLS). Every operation of the contract is here:
 * stat, open (offset), create (flags, checks), rename, remove, mkdir,
 * chmod, chtimes, truncate, readdir, dirsize, mimetype, statvfs. Wire values
 * are Go's (FileMode bits, os.O_* flags, RFC 3339 times), encoded here on
 * their own rather than borrowed from the client under test. Basic auth
 * and/or X-API-KEY are checked when configured (401 otherwise); errors are
 * ApiResponse JSON with 403/404/500 as the contract lists; an unknown
 * operation answers 501. Names are confined to the root, symlinks included.
 * `dirsize` sums the regular files below a directory; `mimetype` sniffs the
 * file's first bytes (so a "%PDF-" file named "x.unknown" is application/pdf,
 * which no extension table gives). `answer` makes chosen operations fail
 * with a status (501: a service without them; 503: one that is down).
 * Uploads are written in place as they arrive (an aborted body leaves what
 * came), as SFTPGo's own test service does.
 */
import { createServer as createHttpServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import { once } from 'node:events';
import { constants, createReadStream, createWriteStream, promises as fsp, type Stats } from 'node:fs';
import type { Socket } from 'node:net';
import { pipeline } from 'node:stream/promises';
import os from 'node:os';
import path from 'node:path';

export interface HttpFsServerOptions {
  /** the served directory; a fresh temp dir when absent (removed by stop) */
  root?: string;
  username?: string;
  password?: string;
  apiKey?: string;
  /** the API path (SFTPGo's test service: /api/v1) */
  basePath?: string;
  /** listen on this UNIX socket instead of a TCP port */
  socketPath?: string;
  tls?: { cert: string; key: string };
  /** operation ("dirsize", "mimetype"...) → the status it always answers, with an ApiResponse error */
  answer?: Readonly<Record<string, number>>;
}

export interface TestHttpFs {
  /** the httpconfig endpoint: http(s)://127.0.0.1:port/api/v1, or the unix form */
  endpoint: string;
  root: string;
  /** "METHOD op name[?query]" of every request, in order */
  requests: string[];
  /** requests seen while uploads were cut short by the client */
  abortedUploads: number;
  /** resolves once no client connection is open; rejects after `timeoutMs` (a client keeping its sockets) */
  idle(timeoutMs?: number): Promise<void>;
  stop(): Promise<void>;
}

class HttpError extends Error {
  constructor(readonly status: number, message: string) { super(message); }
}

// Go fs.FileMode type bits
const GO = { dir: 2 ** 31, symlink: 2 ** 27, device: 2 ** 26, pipe: 2 ** 25, socket: 2 ** 24, setuid: 2 ** 23, setgid: 2 ** 22, charDevice: 2 ** 21, sticky: 2 ** 20 };
// Go os.O_* on Linux, translated to this platform's values
const GO_FLAGS: [number, number][] = [
  [0x1, constants.O_WRONLY], [0x2, constants.O_RDWR], [0x40, constants.O_CREAT], [0x80, constants.O_EXCL], [0x200, constants.O_TRUNC], [0x400, constants.O_APPEND],
];

function goMode(st: Stats): number {
  let m = st.mode & 0o777;
  if (st.mode & 0o4000) m += GO.setuid;
  if (st.mode & 0o2000) m += GO.setgid;
  if (st.mode & 0o1000) m += GO.sticky;
  if (st.isDirectory()) m += GO.dir;
  else if (st.isSymbolicLink()) m += GO.symlink;
  else if (st.isFIFO()) m += GO.pipe;
  else if (st.isSocket()) m += GO.socket;
  else if (st.isCharacterDevice()) m += GO.device + GO.charDevice;
  else if (st.isBlockDevice()) m += GO.device;
  return m;
}

function posixMode(go: number): number {
  const bit = (b: number): boolean => Math.floor(go / b) % 2 === 1;
  return (go % 512) | (bit(GO.setuid) ? 0o4000 : 0) | (bit(GO.setgid) ? 0o2000 : 0) | (bit(GO.sticky) ? 0o1000 : 0);
}

const fileInfo = (name: string, st: Stats): Record<string, unknown> => ({ name, size: st.size, mode: goMode(st), last_modified: st.mtime.toISOString() });

function send(res: ServerResponse, status: number, body: unknown): void {
  const b = Buffer.from(JSON.stringify(body));
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': b.length });
  res.end(b);
}

function statusOf(e: unknown): HttpError {
  if (e instanceof HttpError) return e;
  const code = (e as NodeJS.ErrnoException).code;
  const message = (e as Error).message;
  if (code === 'ENOENT' || code === 'ENOTDIR') return new HttpError(404, message);
  if (code === 'EACCES' || code === 'EPERM') return new HttpError(403, message);
  return new HttpError(500, message);
}

function intParam(q: URLSearchParams, key: string, required: boolean): number | undefined {
  const v = q.get(key);
  if (v === null || v === '') {
    if (required) throw new HttpError(400, `${key} is required`);
    return undefined;
  }
  if (!/^-?\d+$/.test(v)) throw new HttpError(400, `invalid ${key}`);
  return Number(v);
}

function timeParam(q: URLSearchParams, key: string): Date {
  const d = new Date(q.get(key) ?? '');
  if (Number.isNaN(d.getTime())) throw new HttpError(400, `invalid ${key}`);
  return d;
}

async function dirUsage(dir: string): Promise<{ files: number; size: number }> {
  let files = 0;
  let size = 0;
  for (const e of await fsp.readdir(dir, { withFileTypes: true })) {
    const full = path.join(dir, e.name);
    if (e.isDirectory()) {
      const sub = await dirUsage(full);
      files += sub.files;
      size += sub.size;
    } else if (e.isFile()) {
      files++;
      size += (await fsp.stat(full)).size;
    }
  }
  return { files, size };
}

/** http.DetectContentType's simplest cases: enough to tell text from binary. */
function sniff(head: Buffer): string {
  if (head.subarray(0, 8).equals(Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]))) return 'image/png';
  if (head.subarray(0, 5).toString('latin1') === '%PDF-') return 'application/pdf';
  if (head.every((b) => b === 0x09 || b === 0x0a || b === 0x0d || b >= 0x20)) return 'text/plain; charset=utf-8';
  return 'application/octet-stream';
}

export async function startHttpFsServer(opts: HttpFsServerOptions = {}): Promise<TestHttpFs> {
  const ownRoot = opts.root === undefined;
  const root = await fsp.realpath(opts.root ?? await fsp.mkdtemp(path.join(os.tmpdir(), 'httpfs-')));
  const basePath = opts.basePath ?? '/api/v1';
  const requests: string[] = [];
  const state = { abortedUploads: 0 };

  /** The local path of a contract name, refused (403) when it resolves outside the root. */
  async function local(name: string, followLast: boolean): Promise<string> {
    const clean = path.posix.normalize('/' + name);
    const full = path.join(root, clean);
    // the deepest existing ancestor (the entry itself when followed) must really be inside
    let probe = followLast ? full : path.dirname(full);
    for (let i = 0; i < 4096; i++) {
      try {
        const real = await fsp.realpath(probe);
        if (real !== root && !real.startsWith(root + path.sep)) throw new HttpError(403, 'outside the served directory');
        return full;
      } catch (e) {
        if (e instanceof HttpError || (e as NodeJS.ErrnoException).code !== 'ENOENT' || probe === root) throw e;
        // a dangling link would be followed by a create to wherever it points
        if (probe === full && await fsp.lstat(full).then((st) => st.isSymbolicLink(), () => false)) throw new HttpError(403, 'a link to a missing target');
        probe = path.dirname(probe);
      }
    }
    throw new HttpError(500, 'path too deep');
  }

  function authorized(req: IncomingMessage): boolean {
    if (opts.apiKey !== undefined && req.headers['x-api-key'] !== opts.apiKey) return false;
    if (opts.username === undefined) return true;
    const m = /^Basic (.+)$/.exec(req.headers.authorization ?? '');
    const [user, ...pw] = Buffer.from(m?.[1] ?? '', 'base64').toString('utf8').split(':');
    return m !== null && user === opts.username && pw.join(':') === (opts.password ?? '');
  }

  async function create(req: IncomingMessage, res: ServerResponse, file: string, q: URLSearchParams): Promise<void> {
    const goFlags = intParam(q, 'flags', false) ?? 0;
    let flags = constants.O_RDWR | constants.O_CREAT | constants.O_TRUNC;
    if (goFlags > 0) flags = GO_FLAGS.reduce((acc, [go, node]) => ((goFlags & go) !== 0 ? acc | node : acc), 0);
    if (intParam(q, 'checks', false) === 1 && !(await fsp.stat(path.dirname(file))).isDirectory()) throw new HttpError(404, 'the parent is not a directory');
    // a client that gave up while the parent was checked gets no file created behind its back
    if (req.destroyed) throw new HttpError(500, 'the upload was cancelled');
    const handle = await fsp.open(file, flags, 0o644);
    const out = createWriteStream('', { fd: handle.fd, autoClose: false });
    try {
      await pipeline(req, out);
    } catch (e) {
      state.abortedUploads++;
      throw e;
    } finally {
      await handle.close();
    }
    send(res, 201, { message: 'upload OK' });
  }

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://httpfs');
    if (!url.pathname.startsWith(basePath + '/')) throw new HttpError(404, 'not found');
    const [op, encoded, ...rest] = url.pathname.slice(basePath.length + 1).split('/');
    if (encoded === undefined || rest.length > 0) throw new HttpError(404, 'not found');
    const name = decodeURIComponent(encoded);
    const q = url.searchParams;
    requests.push(`${req.method} ${op} ${name}${url.search}`);
    if (!authorized(req)) throw new HttpError(401, 'unauthorized');
    const forced = opts.answer?.[op];
    if (forced !== undefined) throw new HttpError(forced, `${op} answers ${forced} in this test`);
    const route = `${req.method} ${op}`;
    const file = await local(name, route !== 'DELETE remove' && route !== 'PATCH rename');
    switch (route) {
      case 'GET stat': return send(res, 200, fileInfo(path.basename(file), await fsp.stat(file)));
      case 'GET open': {
        const st = await fsp.stat(file);
        if (st.isDirectory()) throw new HttpError(500, 'is a directory');
        const offset = intParam(q, 'offset', false) ?? 0;
        res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': Math.max(st.size - offset, 0) });
        if (offset >= st.size) { res.end(); return; }
        await pipeline(createReadStream(file, { start: offset }), res).catch(() => undefined);
        return;
      }
      case 'POST create': return create(req, res, file, q);
      case 'PATCH rename': {
        const target = q.get('target') ?? '';
        if (target === '') throw new HttpError(400, 'target path cannot be empty');
        await fsp.rename(file, await local(target, false));
        return send(res, 200, { message: 'rename OK' });
      }
      case 'DELETE remove': {
        if ((await fsp.lstat(file)).isDirectory()) await fsp.rmdir(file); else await fsp.unlink(file);
        return send(res, 200, { message: 'remove OK' });
      }
      case 'POST mkdir': await fsp.mkdir(file); return send(res, 200, { message: 'mkdir OK' });
      case 'PATCH chmod': await fsp.chmod(file, posixMode(intParam(q, 'mode', true) as number)); return send(res, 200, { message: 'chmod OK' });
      case 'PATCH chtimes': await fsp.utimes(file, timeParam(q, 'access_time'), timeParam(q, 'modification_time')); return send(res, 200, { message: 'chtimes OK' });
      case 'PATCH truncate': await fsp.truncate(file, intParam(q, 'size', true)); return send(res, 200, { message: 'truncate OK' });
      case 'GET readdir': {
        const out: Record<string, unknown>[] = [];
        for (const e of await fsp.readdir(file)) out.push(fileInfo(e, await fsp.lstat(path.join(file, e))));
        return send(res, 200, out);
      }
      case 'GET dirsize': return send(res, 200, (await fsp.stat(file)).isDirectory() ? await dirUsage(file) : { files: 0, size: 0 });
      case 'GET mimetype': {
        const h = await fsp.open(file, 'r');
        try {
          const head = Buffer.alloc(512);
          const { bytesRead } = await h.read(head, 0, 512, 0);
          return send(res, 200, { mime: sniff(head.subarray(0, bytesRead)) });
        } finally {
          await h.close();
        }
      }
      case 'GET statvfs': {
        const s = await fsp.statfs(file);
        return send(res, 200, {
          bsize: s.bsize, frsize: s.bsize, blocks: s.blocks, bfree: s.bfree, bavail: s.bavail, files: s.files, ffree: s.ffree, favail: s.ffree, namemax: 255,
        });
      }
      default: throw new HttpError(501, `${route} is not implemented`);
    }
  }

  const onRequest = (req: IncomingMessage, res: ServerResponse): void => {
    handle(req, res).catch((e: unknown) => {
      const err = statusOf(e);
      if (res.headersSent || res.destroyed) { res.destroy(); return; }
      // an upload refused before its body was read: the answer follows the body, so the
      // client reads it instead of racing a reset connection
      if (req.complete || req.destroyed) { send(res, err.status, { error: err.message }); return; }
      req.once('end', () => send(res, err.status, { error: err.message }));
      req.once('error', () => res.destroy());
      req.resume();
    });
  };
  const server: Server = opts.tls ? createHttpsServer({ cert: opts.tls.cert, key: opts.tls.key }, onRequest) : createHttpServer(onRequest);
  // idle keep-alive connections stay until the client closes them, so idle() shows whether it does
  server.keepAliveTimeout = 120_000;
  const open = new Set<Socket>();
  let waiters: (() => void)[] = [];
  server.on(opts.tls ? 'secureConnection' : 'connection', (socket: Socket) => {
    open.add(socket);
    socket.once('close', () => {
      open.delete(socket);
      if (open.size > 0) return;
      for (const w of waiters) w();
      waiters = [];
    });
  });
  const scheme = opts.tls ? 'https' : 'http';
  let endpoint: string;
  if (opts.socketPath) {
    await fsp.rm(opts.socketPath, { force: true });
    server.listen(opts.socketPath);
    await once(server, 'listening');
    endpoint = `${scheme}://unix?socket_path=${encodeURIComponent(opts.socketPath)}&api_prefix=${encodeURIComponent(basePath)}`;
  } else {
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    const addr = server.address();
    endpoint = `${scheme}://127.0.0.1:${typeof addr === 'object' && addr ? addr.port : 0}${basePath}`;
  }
  return {
    endpoint, root, requests,
    get abortedUploads() { return state.abortedUploads; },
    idle: (timeoutMs = 10_000) => (open.size === 0 ? Promise.resolve() : new Promise<void>((resolve, reject) => {
      // the bound only turns a leak into a clear failure instead of the test runner's timeout
      const timer = setTimeout(() => reject(new Error(`${open.size} client connection(s) still open after ${timeoutMs} ms`)), timeoutMs);
      waiters.push(() => { clearTimeout(timer); resolve(); });
    })),
    async stop() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      if (opts.socketPath) await fsp.rm(opts.socketPath, { force: true });
      if (ownRoot) await fsp.rm(root, { recursive: true, force: true });
    },
  };
}

/** An httpconfig for this service (plain secrets, sealed by the server on save). */
export function httpconfig(s: TestHttpFs, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return { endpoint: s.endpoint, ...extra };
}
