/**
 * PROPPATCH, replacing the library's: it answers twice when a request holds
 * more than one set/remove block (crashing on "headers already sent"), and it
 * refuses every DAV: property, while SFTPGo lets clients set the mtime with
 * DAV:getlastmodified (and Windows with Win32LastModifiedTime).
 * All instructions succeed or none is applied (RFC 4918 §9.2).
 */
import { XML, type XMLElement } from 'xml-js-builder';
import { v2 } from 'webdav-server';
import { STATUS_CODES } from 'node:http';
import { davUserOf, type DelegatingFileSystem } from './davfs';
import { WIN32_MTIME, parseHttpDate, textOf } from './props';
import { httpStatusOf } from './status';

const DAV_MTIME = 'DAV:getlastmodified';

interface Instruction { op: 'set' | 'remove'; el: XMLElement }

/** Parses a propertyupdate body; undefined when malformed (→ 400). */
export function parsePropertyUpdate(body: Buffer): Instruction[] | undefined {
  let root: XMLElement;
  try {
    root = XML.parse(body.toString('utf8')).find('DAV:propertyupdate');
  } catch {
    return undefined;
  }
  const out: Instruction[] = [];
  for (const block of root.elements ?? []) {
    if (block.type !== 'element') continue;
    const op = block.name === 'DAV:set' ? 'set' : block.name === 'DAV:remove' ? 'remove' : undefined;
    if (!op) continue;
    for (const prop of block.elements ?? []) {
      if (prop.type !== 'element' || prop.name !== 'DAV:prop') continue;
      for (const el of prop.elements ?? []) if (el.type === 'element') out.push({ op, el });
    }
  }
  return out;
}

/** Splits the library's "<namespace><local>" property name for output. */
export function splitName(name: string): { ns: string; local: string } {
  const m = /^(.*[:/#])([^:/#]+)$/.exec(name);
  return m ? { ns: m[1]!, local: m[2]! } : { ns: '', local: name };
}

const esc = (s: string): string => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');

function multistatus(href: string, byStatus: Map<number, string[]>): string {
  let body = `<?xml version="1.0" encoding="utf-8"?>\n<D:multistatus xmlns:D="DAV:"><D:response><D:href>${esc(href)}</D:href>`;
  for (const [status, names] of byStatus) {
    body += '<D:propstat><D:prop>';
    for (const n of names) {
      const { ns, local } = splitName(n);
      body += ns === 'DAV:' ? `<D:${local}/>` : `<P:${local} xmlns:P="${esc(ns)}"/>`;
    }
    body += `</D:prop><D:status>HTTP/1.1 ${status} ${STATUS_CODES[status] ?? ''}</D:status></D:propstat>`;
  }
  return `${body}</D:response></D:multistatus>`;
}

export function proppatchMethod(fs: DelegatingFileSystem, maxBody: number): v2.HTTPMethod {
  return {
    isValidFor: (_ctx, type) => !!type,
    chunked(ctx, input, done) {
      const chunks: Buffer[] = [];
      let size = 0;
      input.on('data', (c: Buffer) => {
        size += c.length;
        if (size <= maxBody) chunks.push(c);
      });
      input.on('error', () => undefined);
      input.on('end', () => {
        if (size > maxBody) {
          ctx.setCode(413);
          done();
          return;
        }
        ctx.checkIfHeader(fs.resource(ctx, ctx.requested.path), () => {
          run(fs, ctx, Buffer.concat(chunks)).then(done, (e: unknown) => {
            if (!ctx.response.headersSent) ctx.setCode(httpStatusOf(e));
            done();
          });
        });
      });
    },
  };
}

async function run(fs: DelegatingFileSystem, ctx: v2.HTTPRequestContext, body: Buffer): Promise<void> {
  const { ops, state } = davUserOf(ctx);
  const vpath = ops.cleanPath(ctx.requested.path.toString());
  await ops.stat(vpath);
  const instructions = parsePropertyUpdate(body);
  if (!instructions) {
    ctx.setCode(v2.HTTPCodes.BadRequest);
    return;
  }
  const locked = await new Promise<boolean>((resolve) => fs.isLocked(ctx, vpath, (e, l) => resolve(!!e || l === true)));
  if (locked) {
    ctx.setCode(v2.HTTPCodes.Locked);
    return;
  }
  const bag = structuredClone(state.propsAt(vpath));
  const results: { name: string; status: number }[] = [];
  let mtime: Date | undefined;
  for (const { op, el } of instructions) {
    const isMtime = el.name === DAV_MTIME || el.name === WIN32_MTIME;
    if (op === 'set' && isMtime) {
      try {
        mtime = parseHttpDate(textOf(el.elements ?? []));
        results.push({ name: el.name, status: 200 });
      } catch {
        results.push({ name: el.name, status: 409 });
      }
    } else if (el.name.startsWith('DAV:')) {
      // live properties are protected (RFC 4918 §16 cannot-modify-protected-property)
      results.push({ name: el.name, status: 403 });
    } else if (op === 'set') {
      bag[el.name] = { value: el.elements ?? [], attributes: el.attributes as v2.PropertyAttributes };
      results.push({ name: el.name, status: 200 });
    } else {
      delete bag[el.name];
      results.push({ name: el.name, status: 200 });
    }
  }
  const failed = results.some((r) => r.status !== 200);
  if (!failed) {
    if (mtime) await ops.setStat(vpath, { mtime });
    state.setProps(vpath, bag);
  }
  const byStatus = new Map<number, string[]>();
  for (const r of results) {
    const status = failed && r.status === 200 ? 424 : r.status;
    byStatus.set(status, [...(byStatus.get(status) ?? []), r.name]);
  }
  const xml = multistatus(ctx.fullUri(), byStatus);
  ctx.response.setHeader('Content-Type', 'application/xml; charset=utf-8');
  ctx.setCode(v2.HTTPCodes.MultiStatus);
  ctx.response.end(xml);
}
