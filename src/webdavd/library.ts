/**
 * Builds the webdav-server instance. The library is kept for its request
 * dispatch, Basic-auth hook and response plumbing; every method is ours
 * (see each module for why the library's own is replaced), wrapped by
 * davMethod so a failure is a status code and never an escaped exception.
 */
import { v2 } from 'webdav-server';
import { DelegatingFileSystem, type DavUser } from './davfs';
import { copyOrMove, del, mkcol } from './copymove';
import { getOrHead } from './get';
import { lock, unlock } from './locks';
import { propfind } from './propfind';
import { proppatch } from './proppatch';
import { put } from './put';
import type { ContentTypes } from './mime';
import { davMethod, type ErrorReporter, type MethodCall } from './request';

/** The authenticated user of a request, set by handler.ts before executeRequest. */
export type UserLookup = (req: v2.HTTPRequestContext['request']) => DavUser | undefined;

type Validity = NonNullable<v2.HTTPMethod['isValidFor']>;
const onFile: Validity = (_ctx, type) => !type || type.isFile;
const onExisting: Validity = (_ctx, type) => !!type;
const onMissing: Validity = (_ctx, type) => !type;
const always: Validity = () => true;

export function createDavLibrary(opts: { lookup: UserLookup; serverName: string; version: string; report: ErrorReporter; types: ContentTypes }): {
  server: v2.WebDAVServer; fs: DelegatingFileSystem;
} {
  const fs = new DelegatingFileSystem(opts.report);
  const auth: v2.HTTPAuthentication = {
    // handler.ts answers 401 itself; the library never sees an unauthenticated request
    askForAuthentication: () => ({}),
    getUser(ctx, cb) {
      const u = opts.lookup(ctx.request);
      if (u) cb(undefined as unknown as Error, u);
      else cb(v2.Errors.MissingAuthorisationHeader);
    },
  };
  const server = new v2.WebDAVServer({
    rootFileSystem: fs,
    httpAuthentication: auth,
    requireAuthentification: true,
    serverName: opts.serverName,
    version: opts.version,
  });
  const methods: Record<string, [(call: MethodCall) => Promise<void>, Validity]> = {
    OPTIONS: [async (c) => { c.input.resume(); c.ctx.setCode(200); }, always],
    GET: [(c) => getOrHead(c, false, opts.types), onFile],
    // x/net/webdav serves POST like GET
    POST: [(c) => getOrHead(c, false, opts.types), onFile],
    HEAD: [(c) => getOrHead(c, true, opts.types), onFile],
    PUT: [put, onFile],
    PROPFIND: [(c) => propfind(c, opts.types), onExisting],
    PROPPATCH: [proppatch, onExisting],
    MKCOL: [mkcol, onMissing],
    DELETE: [del, onExisting],
    COPY: [(c) => copyOrMove(c, false), onExisting],
    MOVE: [(c) => copyOrMove(c, true), onExisting],
    LOCK: [lock, always],
    UNLOCK: [unlock, onExisting],
  };
  for (const [name, [impl, valid]] of Object.entries(methods)) server.method(name, davMethod(name, opts.report, impl, valid));
  server.onUnknownMethod({
    chunked(ctx, input, done) {
      input.resume();
      ctx.setCode(v2.HTTPCodes.NotImplemented);
      done();
    },
  });
  return { server, fs };
}
