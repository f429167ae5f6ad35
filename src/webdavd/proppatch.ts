/**
 * PROPPATCH (RFC 4918 §9.2), replacing the library's: it answers twice when a
 * request holds more than one set/remove block, and it refuses every DAV:
 * property, while SFTPGo lets clients set the mtime with DAV:getlastmodified
 * (and Windows with Win32LastModifiedTime); those go to FileOps.setStat.
 * Other properties are dead ones, kept per user in memory. Instructions are
 * applied in document order, all or none.
 */
import { STATUS_CODES } from 'node:http';
import { FsError } from '../common/errors';
import { ifHolds, mayModify } from './ifheader';
import { DavStatus, hrefOf, MAX_XML_BODY, readBounded, sendXml, type MethodCall } from './request';
import { propKey, type DeadProp } from './state';
import { childElems, DAV_NS, emptyElem, escText, parseXml, serialize, textOf, type XElem } from './xml';

export const WIN32_NS = 'urn:schemas-microsoft-com:';
const WIN32_MTIME = 'Win32LastModifiedTime';

export interface Instruction { op: 'set' | 'remove'; el: XElem }

/** Parses a propertyupdate body; throws DavStatus(400) when malformed. */
export function parsePropertyUpdate(body: Buffer): Instruction[] {
  let root: XElem;
  try {
    root = parseXml(body.toString('utf8'));
  } catch {
    throw new DavStatus(400);
  }
  if (root.ns !== DAV_NS || root.local !== 'propertyupdate') throw new DavStatus(400);
  const out: Instruction[] = [];
  for (const block of childElems(root, DAV_NS)) {
    const op = block.local === 'set' ? 'set' : block.local === 'remove' ? 'remove' : undefined;
    if (!op) continue;
    for (const prop of childElems(block, DAV_NS, 'prop')) for (const el of childElems(prop)) out.push({ op, el });
  }
  return out;
}

/** Parses an HTTP date (RFC 1123) as sent in getlastmodified / Win32LastModifiedTime. */
export function parseHttpDate(s: string): Date {
  const d = new Date(s.trim());
  if (Number.isNaN(d.getTime())) throw new FsError('InvalidPath', 'invalid date');
  return d;
}

const isMtime = (el: XElem): boolean =>
  (el.ns === DAV_NS && el.local === 'getlastmodified') || (el.ns === WIN32_NS && el.local === WIN32_MTIME);

export async function proppatch(call: MethodCall): Promise<void> {
  const { ctx, user, vpath } = call;
  const { ops, state } = user;
  ops.setCommand('PROPPATCH');
  const instructions = parsePropertyUpdate(await readBounded(call.input, MAX_XML_BODY));
  if (!(await ifHolds(ctx, vpath))) throw new DavStatus(412);
  const fi = await ops.stat(vpath);
  if (!mayModify(ctx, vpath, false)) throw new DavStatus(423);
  const bag = new Map<string, DeadProp>(state.propsAt(vpath));
  const results: { el: XElem; status: number }[] = [];
  let mtime: Date | undefined;
  for (const { op, el } of instructions) {
    if (op === 'set' && isMtime(el)) {
      try {
        mtime = parseHttpDate(textOf(el));
        results.push({ el, status: 200 });
      } catch {
        results.push({ el, status: 409 });
      }
    } else if (el.ns === DAV_NS) {
      // live properties are protected (RFC 4918 §16 cannot-modify-protected-property)
      results.push({ el, status: 403 });
    } else if (op === 'set') {
      bag.set(propKey(el.ns, el.local), { ns: el.ns, local: el.local, xml: serialize(el) });
      results.push({ el, status: 200 });
    } else {
      bag.delete(propKey(el.ns, el.local));
      results.push({ el, status: 200 });
    }
  }
  const failed = results.some((r) => r.status !== 200);
  if (!failed) {
    if (mtime) await ops.setStat(vpath, { mtime });
    state.setProps(vpath, bag);
  }
  const byStatus = new Map<number, string>();
  for (const r of results) {
    const status = failed && r.status === 200 ? 424 : r.status;
    byStatus.set(status, (byStatus.get(status) ?? '') + emptyElem(r.el.ns, r.el.local));
  }
  let body = `<D:multistatus xmlns:D="DAV:"><D:response><D:href>${escText(hrefOf(ctx, vpath, fi.isDirectory))}</D:href>`;
  for (const [status, props] of byStatus) {
    body += `<D:propstat><D:prop>${props}</D:prop><D:status>HTTP/1.1 ${status} ${STATUS_CODES[status] ?? ''}</D:status></D:propstat>`;
  }
  sendXml(ctx, 207, `${body}</D:response></D:multistatus>`);
}
