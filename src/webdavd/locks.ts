/**
 * LOCK and UNLOCK (RFC 4918 §9.10, §9.11) on the per-user in-memory lock
 * table (state.ts), replacing the library's (wrong namespaces in the reply,
 * shared locks refused, UNLOCK tied to user ids). Write locks only,
 * exclusive or shared, depth 0 or infinity; a LOCK on an unmapped URL
 * creates an empty file, as RFC 4918 §7.3 prescribes (no lock-null resources).
 */
import type { v2 } from 'webdav-server';
import { ifHolds, submittedTokens } from './ifheader';
import { DavStatus, hrefOf, MAX_XML_BODY, parentOf, readBounded, sendXml, statOrUndefined, type MethodCall } from './request';
import type { DavLock } from './state';
import { childElems, DAV_NS, escText, parseXml, serializeChildren, type XElem } from './xml';

/** Longest lock we grant (seconds); clients asking for Infinite get this too. */
export const MAX_LOCK_SECONDS = 24 * 3600;
const DEFAULT_LOCK_SECONDS = 3600;

/** Parses the Timeout header ("Second-N, Infinite"): first acceptable value, capped. */
export function parseTimeout(h: string | undefined): number {
  for (const part of (h ?? '').split(',')) {
    const t = part.trim();
    if (/^infinite$/i.test(t)) return MAX_LOCK_SECONDS;
    const m = /^second-(\d+)$/i.exec(t);
    if (m) return Math.max(1, Math.min(Number(m[1]), MAX_LOCK_SECONDS));
  }
  return DEFAULT_LOCK_SECONDS;
}

export function activeLockXml(ctx: v2.HTTPRequestContext, l: DavLock): string {
  const left = Math.max(0, Math.ceil((l.expiresAt - Date.now()) / 1000));
  return '<D:activelock><D:locktype><D:write/></D:locktype>'
    + `<D:lockscope><D:${l.scope}/></D:lockscope><D:depth>${l.depth}</D:depth>`
    + (l.ownerXml ? `<D:owner>${l.ownerXml}</D:owner>` : '')
    + `<D:timeout>Second-${left}</D:timeout>`
    + `<D:locktoken><D:href>${escText(l.token)}</D:href></D:locktoken>`
    + `<D:lockroot><D:href>${escText(hrefOf(ctx, l.root, false))}</D:href></D:lockroot></D:activelock>`;
}

function lockReply(call: MethodCall, lock: DavLock, status: number): void {
  sendXml(call.ctx, status, `<D:prop xmlns:D="DAV:"><D:lockdiscovery>${activeLockXml(call.ctx, lock)}</D:lockdiscovery></D:prop>`,
    { 'Lock-Token': `<${lock.token}>` });
}

interface LockInfo { scope: 'exclusive' | 'shared'; ownerXml: string }

export function parseLockInfo(body: Buffer): LockInfo {
  let root: XElem;
  try {
    root = parseXml(body.toString('utf8'));
  } catch {
    throw new DavStatus(400);
  }
  if (root.ns !== DAV_NS || root.local !== 'lockinfo') throw new DavStatus(400);
  const scopeEl = childElems(root, DAV_NS, 'lockscope')[0];
  const scope = scopeEl ? childElems(scopeEl, DAV_NS)[0]?.local : undefined;
  const typeEl = childElems(root, DAV_NS, 'locktype')[0];
  if (scope !== 'exclusive' && scope !== 'shared') throw new DavStatus(400);
  if (!typeEl || childElems(typeEl, DAV_NS, 'write').length === 0) throw new DavStatus(400);
  const owner = childElems(root, DAV_NS, 'owner')[0];
  return { scope, ownerXml: owner ? serializeChildren(owner.children) : '' };
}

/** Existing locks a new lock on `vpath` would conflict with (423 when any). */
function conflicts(call: MethodCall, vpath: string, scope: LockInfo['scope'], depth: DavLock['depth']): boolean {
  const { state } = call.user;
  const existing = [...state.locksCovering(vpath), ...(depth === 'infinity' ? state.locksBelow(vpath).flat() : [])];
  return existing.some((l) => l.scope === 'exclusive' || scope === 'exclusive');
}

export async function lock(call: MethodCall): Promise<void> {
  const { ctx, user, vpath } = call;
  user.ops.setCommand('LOCK');
  const body = await readBounded(call.input, MAX_XML_BODY);
  const timeout = parseTimeout(ctx.headers.find('Timeout'));
  if (!(await ifHolds(ctx, vpath))) throw new DavStatus(412);
  if (body.length === 0) {
    // refresh: the If header must name a lock that covers this resource
    const held = [...submittedTokens(ctx.headers.find('If', ''))].map((t) => user.state.findCovering(vpath, t)).find((l) => l);
    if (!held) throw new DavStatus(412);
    user.state.refresh(held, timeout);
    lockReply(call, held, 200);
    return;
  }
  const info = parseLockInfo(body);
  const depthHeader = ctx.headers.find('Depth', 'infinity').trim().toLowerCase();
  if (depthHeader !== '0' && depthHeader !== 'infinity') throw new DavStatus(400);
  const depth = depthHeader === '0' ? 0 : 'infinity';
  if (conflicts(call, vpath, info.scope, depth)) throw new DavStatus(423);
  let created = false;
  if (!(await statOrUndefined(user, vpath))) {
    const parent = await statOrUndefined(user, parentOf(vpath));
    if (!parent?.isDirectory) throw new DavStatus(409);
    const up = await user.ops.openWrite(vpath, { truncate: true, append: false, exclusive: true, read: false, offset: 0 });
    await up.close();
    created = true;
  }
  const l = user.state.addLock({ root: vpath, depth, scope: info.scope, ownerXml: info.ownerXml, timeout });
  lockReply(call, l, created ? 201 : 200);
}

export async function unlock(call: MethodCall): Promise<void> {
  const { ctx, user, vpath } = call;
  user.ops.setCommand('UNLOCK');
  call.input.resume();
  const token = /^\s*<([^>]+)>\s*$/.exec(ctx.headers.find('Lock-Token', ''))?.[1];
  if (!token) throw new DavStatus(400);
  const held = user.state.findCovering(vpath, token);
  if (!held) {
    throw new DavStatus(409, '<?xml version="1.0" encoding="utf-8"?>\n<D:error xmlns:D="DAV:"><D:lock-token-matches-request-uri/></D:error>');
  }
  user.state.removeLock(held);
  ctx.setCode(204);
}
