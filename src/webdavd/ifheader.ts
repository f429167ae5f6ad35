/**
 * If-header evaluation (RFC 4918 §10.4), installed on each request context:
 * the library's parser dereferences an undefined path for untagged lists
 * (`If: (<token>)`) and throws inside a callback, killing the process.
 * A list matches when all its conditions hold; the header holds when any
 * list does. Conditions: lock tokens (of a lock covering the resource) and
 * etags, each optionally negated with Not.
 */
import { v2 } from 'webdav-server';
import { davUserOf, etagOf, type DelegatingFileSystem } from './davfs';

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

/** Replaces ctx.checkIfHeader for this request only. */
export function installIfHeader(ctx: v2.HTTPRequestContext, fs: DelegatingFileSystem, prefix: string): void {
  const check = (target: v2.Path, cb: () => void): void => {
    const header = ctx.headers.find('If');
    if (!header) return cb();
    evaluate(ctx, fs, prefix, target.toString(), header).then((ok) => {
      if (ok) return cb();
      ctx.setCode(v2.HTTPCodes.PreconditionFailed);
      ctx.exit();
    }, () => {
      ctx.setCode(v2.HTTPCodes.PreconditionFailed);
      ctx.exit();
    });
  };
  ctx.checkIfHeader = ((a: v2.Resource | v2.FileSystem | undefined, b: v2.Path | (() => void), c?: () => void) => {
    // the library sometimes passes an undefined resource: fall back to the request's path
    if (typeof b === 'function') check((a as v2.Resource | undefined)?.path ?? ctx.requested.path, b);
    else check(b ?? ctx.requested.path, c ?? (() => undefined));
  }) as v2.HTTPRequestContext['checkIfHeader'];
}

async function evaluate(ctx: v2.HTTPRequestContext, fs: DelegatingFileSystem, prefix: string, target: string, header: string): Promise<boolean> {
  const lists = parseIf(header);
  if (!lists) return false;
  const { ops, state } = davUserOf(ctx);
  for (const list of lists) {
    let p = list.resource ? pathOfTag(list.resource) : target;
    if (list.resource && prefix && p.startsWith(prefix)) p = p.slice(prefix.length) || '/';
    const vpath = ops.cleanPath(p);
    const tokens = new Set(state.locksCovering(vpath).map((l) => l.uuid));
    let etag: string | undefined;
    let ok = true;
    for (const cond of list.conditions) {
      let holds: boolean;
      if (cond.token !== undefined) holds = tokens.has(cond.token);
      else {
        if (etag === undefined) etag = await fs.statOf(ctx, ops, vpath).then(etagOf, () => '');
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
