/**
 * If-header evaluation (RFC 4918 §10.4) and token-based lock checks, used by
 * every method that reads or changes a resource (the library's parser
 * dereferences an undefined path for untagged lists and crashes).
 * A list matches when all its conditions hold; the header holds when any
 * list does. Conditions: lock tokens (of a lock covering the resource) and
 * etags, each optionally negated with Not.
 */
import { v2 } from 'webdav-server';
import { davUserOf, etagOf } from './davfs';

export interface IfList { resource?: string; conditions: { not: boolean; token?: string; etag?: string }[] }

export function parseIf(header: string): IfList[] | undefined {
  const lists: IfList[] = [];
  const re = /\s*(?:<([^>]*)>\s*)?\(([^)]*)\)/gy;
  let resource: string | undefined;
  let m: RegExpExecArray | null;
  let consumed = 0;
  while ((m = re.exec(header)) !== null) {
    consumed = re.lastIndex;
    if (m[1] !== undefined) resource = m[1];
    const conditions: IfList['conditions'] = [];
    const cre = /\s*(not\s+)?(?:<([^>]*)>|\[([^\]]*)\])/giy;
    let c: RegExpExecArray | null;
    let inner = 0;
    while ((c = cre.exec(m[2]!)) !== null) {
      inner = cre.lastIndex;
      conditions.push({ not: !!c[1], token: c[2], etag: c[3] });
    }
    if (m[2]!.slice(inner).trim() !== '' || conditions.length === 0) return undefined;
    lists.push({ resource, conditions });
  }
  if (header.slice(consumed).trim() !== '' || lists.length === 0) return undefined;
  return lists;
}

function pathOfTag(tag: string): string {
  try {
    return decodeURIComponent(new URL(tag, 'http://x').pathname);
  } catch {
    return tag;
  }
}

/**
 * Evaluates the request's If header against `target` (a clean virtual path).
 * Tagged lists name their own resource (absolute URL or path, prefix removed).
 */
export async function ifHolds(ctx: v2.HTTPRequestContext, target: string): Promise<boolean> {
  const header = ctx.headers.find('If');
  if (!header) return true;
  const lists = parseIf(header);
  if (!lists) return false;
  const { ops, state } = davUserOf(ctx);
  const prefix = ctx.rootPath ?? '';
  for (const list of lists) {
    let p = list.resource ? pathOfTag(list.resource) : target;
    if (list.resource && prefix && p.startsWith(prefix)) p = p.slice(prefix.length) || '/';
    const vpath = ops.cleanPath(p);
    const tokens = new Set(state.locksCovering(vpath).map((l) => l.token));
    let etag: string | undefined;
    let ok = true;
    for (const cond of list.conditions) {
      let holds: boolean;
      if (cond.token !== undefined) holds = tokens.has(cond.token);
      else {
        if (etag === undefined) etag = await ops.stat(vpath).then(etagOf, () => '');
        holds = etag !== '' && etag === cond.etag;
      }
      if (holds === cond.not) {
        ok = false;
        break;
      }
    }
    if (ok) return true;
  }
  return false;
}

/** Lock tokens named anywhere in an If header. */
export function submittedTokens(ifHeader: string): Set<string> {
  const out = new Set<string>();
  for (const m of ifHeader.matchAll(/<((?:urn:uuid|opaquelocktoken):[^>\s]+)>/gi)) out.add(m[1]!);
  return out;
}

/**
 * Whether this request may modify `vpath` (RFC 4918 §7): every lock that
 * covers it must be matched by a token in the If header (for shared locks one
 * of them is enough); with `subtree`, so must each lock rooted below it.
 */
export function mayModify(ctx: v2.HTTPRequestContext, vpath: string, subtree: boolean): boolean {
  const { state } = davUserOf(ctx);
  const tokens = submittedTokens(ctx.headers.find('If', ''));
  const groups = [state.locksCovering(vpath), ...(subtree ? state.locksBelow(vpath) : [])];
  return groups.every((g) => g.length === 0 || g.some((l) => tokens.has(l.token)));
}
