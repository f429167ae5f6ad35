/**
 * PROPFIND (RFC 4918 §9.1), replacing the library's, which writes custom
 * namespaces wrongly. Live properties come from FileOps.stat/readDir (so
 * permissions apply), dead ones from the per-user in-memory state. Depth 0
 * or 1 (infinity is refused earlier, in handler.ts).
 */
import { STATUS_CODES } from 'node:http';
import type { FileInfo } from '../vfs/fs';
import { isFsError } from '../common/errors';
import { etagOf } from './davfs';
import { activeLockXml } from './locks';
import { backendLookup, type ContentTypes, type TypeMemo } from './mime';
import { childPath, DavStatus, hrefOf, MAX_XML_BODY, readBounded, sendXml, type MethodCall } from './request';
import { propKey } from './state';
import { childElems, DAV_NS, emptyElem, escText, parseXml, type XElem } from './xml';

type PropName = { ns: string; local: string };
export type PropfindRequest = { kind: 'allprop'; include: PropName[] } | { kind: 'propname' } | { kind: 'prop'; props: PropName[] };

/** Parses a PROPFIND body; an empty body means allprop. Throws DavStatus(400) when malformed. */
export function parsePropfind(body: Buffer): PropfindRequest {
  if (body.length === 0) return { kind: 'allprop', include: [] };
  let root: XElem;
  try {
    root = parseXml(body.toString('utf8'));
  } catch {
    throw new DavStatus(400);
  }
  if (root.ns !== DAV_NS || root.local !== 'propfind') throw new DavStatus(400);
  const names = (el: XElem | undefined): PropName[] => (el ? childElems(el).map((c) => ({ ns: c.ns, local: c.local })) : []);
  if (childElems(root, DAV_NS, 'propname').length) return { kind: 'propname' };
  if (childElems(root, DAV_NS, 'allprop').length) return { kind: 'allprop', include: names(childElems(root, DAV_NS, 'include')[0]) };
  const prop = childElems(root, DAV_NS, 'prop')[0];
  if (!prop) throw new DavStatus(400);
  return { kind: 'prop', props: names(prop) };
}

const SUPPORTED_LOCK = ['exclusive', 'shared'].map((s) =>
  `<D:lockentry><D:lockscope><D:${s}/></D:lockscope><D:locktype><D:write/></D:locktype></D:lockentry>`).join('');

const isoDate = (d: Date): string => d.toISOString().replace(/\.\d{3}Z$/, 'Z');

const nameOf = (vpath: string): string => (vpath === '/' ? '' : vpath.slice(vpath.lastIndexOf('/') + 1));

/** getcontenttype is computed only when asked for (it may cost the backend a call): allprop or a prop request naming it. */
function wantsContentType(req: PropfindRequest): boolean {
  return req.kind === 'allprop' || (req.kind === 'prop' && req.props.some((p) => p.ns === DAV_NS && p.local === 'getcontenttype'));
}

/** Live DAV: properties of a resource (name → inner XML); files and collections differ as in SFTPGo. */
function liveProps(call: MethodCall, vpath: string, fi: FileInfo, contentType: string | undefined): Map<string, string> {
  const m = new Map<string, string>();
  const name = nameOf(vpath);
  m.set('creationdate', isoDate(fi.mtime));
  m.set('displayname', escText(name));
  m.set('getlastmodified', fi.mtime.toUTCString());
  m.set('resourcetype', fi.isDirectory ? '<D:collection/>' : '');
  if (!fi.isDirectory) {
    m.set('getcontentlength', String(fi.size));
    // a propname answer lists the name; its value is never shown there
    m.set('getcontenttype', escText(contentType ?? ''));
    m.set('getetag', escText(etagOf(fi)));
  }
  m.set('supportedlock', SUPPORTED_LOCK);
  m.set('lockdiscovery', call.user.state.locksCovering(vpath).map((l) => activeLockXml(call.ctx, l)).join(''));
  return m;
}

const propstat = (inner: string, status: number): string =>
  `<D:propstat><D:prop>${inner}</D:prop><D:status>HTTP/1.1 ${status} ${STATUS_CODES[status] ?? ''}</D:status></D:propstat>`;

/** What a PROPFIND answers with: the request, and the content types by extension for this one listing. */
interface PropfindScope { req: PropfindRequest; types: ContentTypes; memo: TypeMemo }

async function responseFor(call: MethodCall, scope: PropfindScope, vpath: string, fi: FileInfo): Promise<string> {
  const { req } = scope;
  const contentType = !fi.isDirectory && wantsContentType(req) ? await scope.types.of(nameOf(vpath), backendLookup(call.user.ops, vpath), scope.memo) : undefined;
  const live = liveProps(call, vpath, fi, contentType);
  const dead = call.user.state.propsAt(vpath);
  let body = `<D:response><D:href>${escText(hrefOf(call.ctx, vpath, fi.isDirectory))}</D:href>`;
  if (req.kind === 'propname') {
    const names = [...live.keys()].map((k) => `<D:${k}/>`).join('') + [...dead.values()].map((d) => emptyElem(d.ns, d.local)).join('');
    return `${body}${propstat(names, 200)}</D:response>`;
  }
  if (req.kind === 'allprop') {
    const all = [...live].map(([k, v]) => `<D:${k}>${v}</D:${k}>`).join('') + [...dead.values()].map((d) => d.xml).join('');
    return `${body}${propstat(all, 200)}</D:response>`;
  }
  let found = '';
  let missing = '';
  for (const p of req.props) {
    const liveVal = p.ns === DAV_NS ? live.get(p.local) : undefined;
    const deadVal = dead.get(propKey(p.ns, p.local));
    if (liveVal !== undefined) found += `<D:${p.local}>${liveVal}</D:${p.local}>`;
    else if (deadVal) found += deadVal.xml;
    else missing += emptyElem(p.ns, p.local);
  }
  if (found) body += propstat(found, 200);
  if (missing) body += propstat(missing, 404);
  return `${body}</D:response>`;
}

/**
 * A listing asks the backend for the type of a name whose extension does not
 * tell at most once per extension (SFTPGo asks per entry, bounded by its
 * cache of types by extension, which `types` keeps too).
 */
export async function propfind(call: MethodCall, types: ContentTypes): Promise<void> {
  const { ctx, user, vpath } = call;
  user.ops.setCommand('PROPFIND');
  const req = parsePropfind(await readBounded(call.input, MAX_XML_BODY));
  const scope: PropfindScope = { req, types, memo: new Map() };
  const fi = await user.ops.stat(vpath);
  const depth = ctx.headers.find('Depth', '1').trim();
  const parts = [await responseFor(call, scope, vpath, fi)];
  if (fi.isDirectory && depth !== '0') {
    for await (const batch of user.ops.readDir(vpath)) {
      for (const entry of batch) {
        const child = childPath(vpath, entry.name);
        let cfi = entry;
        if (entry.isSymlink) {
          // a listed symlink is shown as its target; a dangling or forbidden one is left out
          try {
            cfi = await user.ops.stat(child);
          } catch (e) {
            if (isFsError(e)) continue;
            throw e;
          }
        }
        parts.push(await responseFor(call, scope, child, cfi));
      }
    }
  }
  sendXml(ctx, 207, `<D:multistatus xmlns:D="DAV:">${parts.join('')}</D:multistatus>`);
}
