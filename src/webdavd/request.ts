/**
 * Shared plumbing for the methods we implement ourselves on top of the
 * library's dispatcher: a safe wrapper (every failure becomes a status and,
 * when unexpected, a 500 plus a log line, never an exception escaping into
 * the library), bounded body reading, request path, hrefs and XML replies.
 */
import type { Readable } from 'node:stream';
import { v2 } from 'webdav-server';
import { FsError, isFsError } from '../common/errors';
import { davUserOf, type DavUser } from './davfs';
import { httpStatusOf } from './status';
import { XML_HEAD } from './xml';

/** Largest non-PUT body accepted (PROPFIND/PROPPATCH/LOCK XML). */
export const MAX_XML_BODY = 1024 * 1024;

/** Where unexpected errors are reported (the service's logger). */
export type ErrorReporter = (where: string, e: unknown) => void;

/** An HTTP status answer, thrown by method code to stop with that status. */
export class DavStatus extends Error {
  constructor(readonly status: number, readonly body?: string) {
    super(`HTTP ${status}`);
  }
}

/** Reads a request body up to `max` bytes; rejects beyond it. */
export function readBounded(input: Readable, max: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    input.on('data', (c: Buffer) => {
      size += c.length;
      if (size > max) {
        input.destroy();
        reject(new DavStatus(413));
        return;
      }
      chunks.push(c);
    });
    input.on('end', () => resolve(Buffer.concat(chunks)));
    input.on('error', reject);
    input.on('aborted', () => reject(new FsError('Aborted', 'client went away')));
  });
}

export interface MethodCall {
  ctx: v2.HTTPRequestContext;
  user: DavUser;
  /** clean virtual path of the request URI */
  vpath: string;
  input: Readable;
}

/** Ends the response for a failure, whatever state it is in. */
export function failResponse(ctx: v2.HTTPRequestContext, status: number, body?: string): void {
  const res = ctx.response;
  if (res.headersSent) {
    res.destroy();
    return;
  }
  ctx.setCode(status);
  if (status === 413) res.setHeader('Connection', 'close');
  if (body !== undefined) {
    res.setHeader('Content-Type', 'application/xml; charset=utf-8');
    res.end(body);
  }
}

/**
 * Wraps an async method implementation. `done` (the library's exit, which
 * ends the response) is called exactly once, after a success or a failure.
 */
export function davMethod(name: string, report: ErrorReporter, impl: (call: MethodCall) => Promise<void>,
  isValidFor: v2.HTTPMethod['isValidFor'] = () => true): v2.HTTPMethod {
  return {
    isValidFor,
    chunked(ctx, input, done) {
      input.on('error', () => undefined); // failures surface through the reader
      let finished = false;
      const finish = (): void => {
        if (finished) return;
        finished = true;
        try {
          done();
        } catch (e) {
          report(name, e);
          ctx.response.destroy();
        }
      };
      const onError = (e: unknown): void => {
        if (e instanceof DavStatus) failResponse(ctx, e.status, e.body);
        else {
          if (!isFsError(e) || httpStatusOf(e) >= 500) report(name, e);
          failResponse(ctx, httpStatusOf(e));
        }
        // the client may still be sending a body we will not read
        if (!input.readableEnded && !ctx.response.headersSent) ctx.response.setHeader('Connection', 'close');
        input.resume();
        finish();
      };
      try {
        const user = davUserOf(ctx);
        const vpath = user.ops.cleanPath(ctx.requested.path.toString());
        user.ops.touch();
        impl({ ctx, user, vpath, input }).then(finish, onError);
      } catch (e) {
        onError(e);
      }
    },
  };
}

/** Percent-encoded href for a virtual path under the binding prefix; collections end with "/". */
export function hrefOf(ctx: v2.HTTPRequestContext, vpath: string, isDir: boolean): string {
  const enc = vpath.split('/').map((s) => encodeURIComponent(s)).join('/');
  const p = `${ctx.rootPath ?? ''}${enc}`;
  return isDir && !p.endsWith('/') ? `${p}/` : p;
}

export function sendXml(ctx: v2.HTTPRequestContext, status: number, xml: string, headers?: Record<string, string>): void {
  ctx.setCode(status);
  for (const [k, v] of Object.entries(headers ?? {})) ctx.response.setHeader(k, v);
  ctx.response.setHeader('Content-Type', 'application/xml; charset=utf-8');
  ctx.response.end(XML_HEAD + xml);
}

/** Parent of a clean virtual path. */
export function parentOf(vpath: string): string {
  const i = vpath.lastIndexOf('/');
  return i <= 0 ? '/' : vpath.slice(0, i);
}

export function childPath(dir: string, name: string): string {
  return dir === '/' ? `/${name}` : `${dir}/${name}`;
}

/** stat that answers undefined for a missing path (other errors propagate). */
export async function statOrUndefined(user: DavUser, vpath: string) {
  try {
    return await user.ops.stat(vpath);
  } catch (e) {
    if (isFsError(e, 'NotFound')) return undefined;
    throw e;
  }
}
