/**
 * A small, honest Google Cloud Storage JSON-API server for tests (no real
 * emulator is installable here): one bucket in memory on a loopback port.
 * Implemented: bucket get; object insert (uploadType media, multipart and
 * resumable with 308 chunks and session cancel); object get (metadata, or
 * alt=media with a Range, open-ended or not; a `generation` that is not
 * the live one answers 404 as GCS does without versioning); list with prefix/delimiter/pageToken/maxResults;
 * delete; copyTo, rewriteTo and compose (with ifGenerationMatch). Objects become visible only when an upload
 * finishes, as on GCS. Anything else answers 501 so a test sees it.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { once } from 'node:events';
import { createHash, randomBytes } from 'node:crypto';

interface StoredObject { data: Buffer; contentType: string; updated: Date; generation: number; metadata?: Record<string, string> }
interface Session { name: string; contentType: string; chunks: Buffer[]; received: number; metadata?: Record<string, string> }

export interface TestGcs {
  endpoint: string;
  bucket: string;
  objects: Map<string, StoredObject>;
  /** resumable sessions not finished (an aborted upload leaves none committed) */
  sessions: Map<string, Session>;
  /** requests seen, "METHOD path?query" */
  requests: string[];
  /** media GETs seen: object name and Range header ('' for none) */
  mediaGets: { name: string; range: string }[];
  /** the next this-many media GETs answer 503 (a failing backend, for retry tests) */
  failMedia: { next: number };
  /** media responses still open (a client that destroys its GET closes its one) */
  mediaInFlight: Set<ServerResponse>;
  stop(): Promise<void>;
}

async function body(req: IncomingMessage): Promise<Buffer> {
  const parts: Buffer[] = [];
  for await (const c of req) parts.push(c as Buffer);
  return Buffer.concat(parts);
}

function json(res: ServerResponse, status: number, v: unknown): void {
  const b = Buffer.from(JSON.stringify(v));
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': b.length });
  res.end(b);
}

const notFound = (res: ServerResponse): void => json(res, 404, { error: { code: 404, message: 'No such object' } });

export async function startGcsServer(bucket = 'test-bucket'): Promise<TestGcs> {
  const objects = new Map<string, StoredObject>();
  const sessions = new Map<string, Session>();
  const requests: string[] = [];
  let generation = 1;
  let endpoint = '';

  const resource = (name: string, o: StoredObject): Record<string, unknown> => ({
    kind: 'storage#object', id: `${bucket}/${name}/${o.generation}`, name, bucket, generation: String(o.generation),
    metageneration: '1', contentType: o.contentType, size: String(o.data.length), updated: o.updated.toISOString(),
    timeCreated: o.updated.toISOString(), md5Hash: createHash('md5').update(o.data).digest('base64'),
    etag: `"${o.generation}"`, selfLink: `${endpoint}/storage/v1/b/${bucket}/o/${encodeURIComponent(name)}`,
    ...(o.metadata ? { metadata: o.metadata } : {}),
  });

  const store = (name: string, data: Buffer, contentType: string, metadata?: Record<string, string>): StoredObject => {
    const o = { data, contentType: contentType || 'application/octet-stream', updated: new Date(), generation: generation++, metadata };
    objects.set(name, o);
    return o;
  };

  const list = (res: ServerResponse, q: URLSearchParams): void => {
    const prefix = q.get('prefix') ?? '';
    const delimiter = q.get('delimiter') ?? '';
    const max = Math.min(Number(q.get('maxResults') ?? '1000') || 1000, 1000);
    const token = q.get('pageToken') ?? '';
    const names = [...objects.keys()].filter((n) => n.startsWith(prefix)).sort();
    const entries: { key: string; prefix?: string; name?: string }[] = [];
    const seen = new Set<string>();
    for (const n of names) {
      const rest = n.slice(prefix.length);
      const cut = delimiter ? rest.indexOf(delimiter) : -1;
      if (cut >= 0) {
        const p = prefix + rest.slice(0, cut + delimiter.length);
        if (!seen.has(p)) { seen.add(p); entries.push({ key: p, prefix: p }); }
      } else {
        entries.push({ key: n, name: n });
      }
    }
    const page = entries.filter((e) => e.key > token).slice(0, max);
    const more = entries.filter((e) => e.key > token).length > page.length;
    json(res, 200, {
      kind: 'storage#objects',
      items: page.filter((e) => e.name !== undefined).map((e) => resource(e.name as string, objects.get(e.name as string) as StoredObject)),
      prefixes: page.filter((e) => e.prefix !== undefined).map((e) => e.prefix),
      ...(more ? { nextPageToken: page[page.length - 1].key } : {}),
    });
  };

  const mediaInFlight = new Set<ServerResponse>();
  const mediaGets: { name: string; range: string }[] = [];
  const failMedia = { next: 0 };
  const media = (req: IncomingMessage, res: ServerResponse, name: string, o: StoredObject): void => {
    mediaGets.push({ name, range: req.headers.range ?? '' });
    if (failMedia.next > 0) {
      failMedia.next--;
      json(res, 503, { error: { code: 503, message: 'Backend Error' } });
      return;
    }
    mediaInFlight.add(res);
    res.on('close', () => mediaInFlight.delete(res));
    const range = /^bytes=(\d+)-(\d*)$/.exec(req.headers.range ?? '');
    if (!range) {
      res.writeHead(200, { 'content-type': o.contentType, 'content-length': o.data.length, 'x-goog-generation': String(o.generation) });
      res.end(o.data);
      return;
    }
    const start = Number(range[1]);
    const end = Math.min(range[2] === '' ? o.data.length - 1 : Number(range[2]), o.data.length - 1);
    if (start >= o.data.length) { res.writeHead(416); res.end(); return; }
    res.writeHead(206, {
      'content-type': o.contentType, 'content-length': end - start + 1, 'content-range': `bytes ${start}-${end}/${o.data.length}`,
      'x-goog-generation': String(o.generation),
    });
    res.end(o.data.subarray(start, end + 1));
  };

  /** multipart/related: a JSON metadata part then the media part */
  const multipart = (raw: Buffer, contentType: string): { meta: Record<string, unknown>; data: Buffer } => {
    const boundary = /boundary="?([^";]+)"?/.exec(contentType)?.[1];
    if (!boundary) throw new Error('no boundary');
    const sep = Buffer.from(`--${boundary}`);
    const parts: Buffer[] = [];
    let at = raw.indexOf(sep);
    // bounded: each round moves past one boundary
    while (at >= 0) {
      const next = raw.indexOf(sep, at + sep.length);
      if (next < 0) break;
      parts.push(raw.subarray(at + sep.length, next));
      at = next;
    }
    const content = (p: Buffer): Buffer => {
      const h = p.indexOf('\r\n\r\n');
      return p.subarray(h + 4, p.length - 2);
    };
    return { meta: JSON.parse(content(parts[0]).toString()) as Record<string, unknown>, data: content(parts[1]) };
  };

  const upload = async (req: IncomingMessage, res: ServerResponse, q: URLSearchParams): Promise<void> => {
    const type = q.get('uploadType');
    if (req.method === 'POST' && type === 'media') {
      const name = q.get('name') ?? '';
      json(res, 200, resource(name, store(name, await body(req), req.headers['content-type'] ?? '')));
      return;
    }
    if (req.method === 'POST' && type === 'multipart') {
      const { meta, data } = multipart(await body(req), req.headers['content-type'] ?? '');
      const name = String(meta.name ?? q.get('name') ?? '');
      json(res, 200, resource(name, store(name, data, String(meta.contentType ?? ''), meta.metadata as Record<string, string> | undefined)));
      return;
    }
    if (req.method === 'POST' && type === 'resumable') {
      const raw = await body(req);
      const meta = raw.length > 0 ? JSON.parse(raw.toString()) as Record<string, unknown> : {};
      const name = String(meta.name ?? q.get('name') ?? '');
      const id = randomBytes(12).toString('hex');
      sessions.set(id, {
        name, contentType: String(meta.contentType ?? req.headers['x-upload-content-type'] ?? ''), chunks: [], received: 0,
        metadata: meta.metadata as Record<string, string> | undefined,
      });
      res.writeHead(200, { location: `${endpoint}/upload/storage/v1/b/${bucket}/o?uploadType=resumable&upload_id=${id}` });
      res.end();
      return;
    }
    const id = q.get('upload_id') ?? '';
    const s = sessions.get(id);
    if (!s) { json(res, 404, { error: { code: 404, message: 'No such upload' } }); return; }
    if (req.method === 'DELETE') { sessions.delete(id); res.writeHead(499); res.end(); return; }
    if (req.method !== 'PUT') { res.writeHead(501); res.end(); return; }
    const data = await body(req);
    // an empty upload's one chunk is "bytes 0--1/0", as the SDK sends it
    const cr = /^bytes (\d+)-(-?\d+)\/(\d+|\*)$/.exec(req.headers['content-range'] ?? '') ?? /^bytes \*\/(\d+|\*)$/.exec(req.headers['content-range'] ?? '');
    if (data.length > 0) {
      if (!cr || cr.length < 4 || Number(cr[1]) !== s.received) { json(res, 400, { error: { code: 400, message: 'bad Content-Range' } }); return; }
      s.chunks.push(data);
      s.received += data.length;
    }
    const total = cr ? cr[cr.length - 1] : '*';
    if (total !== '*' && Number(total) === s.received) {
      sessions.delete(id);
      json(res, 200, resource(s.name, store(s.name, Buffer.concat(s.chunks), s.contentType, s.metadata)));
      return;
    }
    res.writeHead(308, s.received > 0 ? { range: `bytes=0-${s.received - 1}` } : {});
    res.end();
  };

  /** objects.compose: the sources (generation-pinned when given) concatenated, under the destination's ifGenerationMatch */
  const compose = async (req: IncomingMessage, res: ServerResponse, dest: string, q: URLSearchParams): Promise<void> => {
    const spec = JSON.parse((await body(req)).toString()) as { destination?: { contentType?: string }; sourceObjects?: { name: string; generation?: number }[] };
    const want = q.get('ifGenerationMatch');
    if (want !== null && (objects.get(dest)?.generation ?? 0) !== Number(want)) {
      json(res, 412, { error: { code: 412, message: 'Precondition Failed' } });
      return;
    }
    const parts: Buffer[] = [];
    for (const src of spec.sourceObjects ?? []) {
      const o = objects.get(src.name);
      if (!o || (src.generation !== undefined && o.generation !== Number(src.generation))) { notFound(res); return; }
      parts.push(o.data);
    }
    if (parts.length === 0 || parts.length > 32) { json(res, 400, { error: { code: 400, message: 'between 1 and 32 source objects' } }); return; }
    json(res, 200, resource(dest, store(dest, Buffer.concat(parts), spec.destination?.contentType ?? objects.get(dest)?.contentType ?? '')));
  };

  const server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://x');
    requests.push(`${req.method} ${url.pathname}${url.search}`);
    const q = url.searchParams;
    const handle = async (): Promise<void> => {
      if (url.pathname === `/upload/storage/v1/b/${bucket}/o`) { await upload(req, res, q); return; }
      const composeTo = /^\/(?:storage\/v1\/)?b\/([^/]+)\/o\/([^/]+)\/compose$/.exec(url.pathname);
      if (composeTo && composeTo[1] === bucket && req.method === 'POST') { await compose(req, res, decodeURIComponent(composeTo[2]), q); return; }
      // the SDK drops /storage/v1 when it is given STORAGE_EMULATOR_HOST
      const m = /^\/(?:download\/)?(?:storage\/v1\/)?b\/([^/]+)(?:\/o(?:\/(.+?))?)?(?:\/(copyTo|rewriteTo)\/b\/[^/]+\/o\/(.+))?$/.exec(url.pathname);
      if (!m || m[1] !== bucket) { json(res, 404, { error: { code: 404, message: 'No such bucket' } }); return; }
      const [, , rawName, op, rawDest] = m;
      if (!url.pathname.includes('/o') && req.method === 'GET') { json(res, 200, { kind: 'storage#bucket', name: bucket, id: bucket }); return; }
      if (rawName === undefined && req.method === 'GET') { list(res, q); return; }
      const name = decodeURIComponent(rawName ?? '');
      const o = objects.get(name);
      if (op && req.method === 'POST') {
        await body(req);
        if (!o) { notFound(res); return; }
        const dest = decodeURIComponent(rawDest);
        const copied = resource(dest, store(dest, Buffer.from(o.data), o.contentType, o.metadata));
        json(res, 200, op === 'rewriteTo'
          ? { kind: 'storage#rewriteResponse', done: true, totalBytesRewritten: String(o.data.length), objectSize: String(o.data.length), resource: copied }
          : copied);
        return;
      }
      if (req.method === 'GET') {
        // a pinned read of a replaced object finds no such generation
        if (!o || (q.has('generation') && q.get('generation') !== String(o.generation))) { notFound(res); return; }
        if (q.get('alt') === 'media') media(req, res, name, o); else json(res, 200, resource(name, o));
        return;
      }
      if (req.method === 'DELETE') {
        if (!objects.delete(name)) { notFound(res); return; }
        res.writeHead(204);
        res.end();
        return;
      }
      res.writeHead(501);
      res.end();
    };
    handle().catch((e: unknown) => { if (!res.headersSent) json(res, 500, { error: { code: 500, message: String(e) } }); else res.destroy(); });
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  endpoint = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
  return {
    endpoint, bucket, objects, sessions, requests, mediaGets, failMedia, mediaInFlight,
    stop: async () => {
      server.closeAllConnections();
      await new Promise<void>((r) => server.close(() => r()));
    },
  };
}

/** A gcsconfig as SFTPGo's JSON has it: service account credentials (the test server does not check them). */
export function gcsconfig(gcs: TestGcs, extra: Record<string, unknown> = {}): Record<string, unknown> {
  const credentials = JSON.stringify({ type: 'service_account', project_id: 'test-project', client_email: 'test@test-project.iam.gserviceaccount.com',
    private_key: '-----BEGIN PRIVATE KEY-----\nMIIB\n-----END PRIVATE KEY-----\n' });
  return { bucket: gcs.bucket, credentials: { status: 'Plain', payload: credentials }, ...extra };
}
