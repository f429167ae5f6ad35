/**
 * Builds the webdav-server instance: one delegating FileSystem at "/", our
 * GET/HEAD/PUT, and every other method wrapped so its body is read with a
 * bound (the library would `Buffer.alloc(Content-Length)` and hang on a short
 * body).
 */
import type { Readable } from 'node:stream';
import { v2 } from 'webdav-server';
import { DavUser, DelegatingFileSystem } from './davfs';
import { getMethod } from './get';
import { putMethod } from './put';
import { proppatchMethod } from './proppatch';
import { XML } from 'xml-js-builder';
import { installIfHeader } from './ifheader';

/** Largest non-PUT body accepted (PROPFIND/PROPPATCH/LOCK XML). */
export const MAX_XML_BODY = 1024 * 1024;

/** Reads a request body up to `max` bytes; rejects beyond it. */
export function readBounded(input: Readable, max: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    input.on('data', (c: Buffer) => {
      size += c.length;
      if (size > max) {
        input.destroy();
        reject(new Error('body too large'));
        return;
      }
      chunks.push(c);
    });
    input.on('end', () => resolve(Buffer.concat(chunks)));
    input.on('error', reject);
    input.on('aborted', () => reject(new Error('aborted')));
  });
}

/**
 * A PROPFIND body must be a well-formed DAV:propfind (RFC 4918 §9.1: 400
 * otherwise); the library answers 207 to anything. An empty body means allprop.
 */
export function validPropfindBody(data: Buffer): boolean {
  if (data.length === 0) return true;
  const text = data.toString('utf8');
  // un-declaring a prefix (xmlns:p="") is not allowed by XML Namespaces 1.0
  if (/xmlns:[^\s=]+\s*=\s*(""|'')/.test(text)) return false;
  try {
    XML.parse(text).find('DAV:propfind');
    return true;
  } catch {
    return false;
  }
}

function bounded(orig: v2.HTTPMethod, validate?: (data: Buffer) => boolean): v2.HTTPMethod {
  const run = orig.unchunked;
  if (!run) return orig;
  return {
    isValidFor: orig.isValidFor?.bind(orig),
    chunked(ctx, input, done) {
      readBounded(input, MAX_XML_BODY).then(
        (data) => {
          if (validate && !validate(data)) {
            ctx.setCode(v2.HTTPCodes.BadRequest);
            done();
            return;
          }
          run.call(orig, ctx, data, done);
        },
        () => {
          ctx.setCode(413);
          ctx.response.setHeader('Connection', 'close');
          done();
        },
      );
    },
  };
}

/** The authenticated user of a request, set by handler.ts before executeRequest. */
export type UserLookup = (req: v2.HTTPRequestContext['request']) => DavUser | undefined;

export function createDavLibrary(opts: { lookup: UserLookup; serverName: string; version: string }): {
  server: v2.WebDAVServer; fs: DelegatingFileSystem;
} {
  const fs = new DelegatingFileSystem();
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
    // locks expire unless refreshed (seconds)
    lockTimeout: 3600,
  });
  for (const name of Object.keys(server.methods)) {
    const m = server.methods[name];
    if (m && !m.chunked) server.method(name, bounded(m, name.toLowerCase() === 'propfind' ? validPropfindBody : undefined));
  }
  server.beforeRequest((ctx, next) => {
    installIfHeader(ctx, fs, ctx.rootPath ?? '');
    next();
  });
  server.onUnknownMethod({
    chunked(ctx, input, done) {
      input.resume();
      ctx.setCode(v2.HTTPCodes.NotImplemented);
      done();
    },
  });
  server.method('GET', getMethod(fs, false));
  server.method('HEAD', getMethod(fs, true));
  server.method('PUT', putMethod(fs));
  server.method('PROPPATCH', proppatchMethod(fs, MAX_XML_BODY));
  return { server, fs };
}
