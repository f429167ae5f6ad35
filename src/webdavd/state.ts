/**
 * In-memory WebDAV state kept per user, as SFTPGo does (its lock system lives
 * with the cached user): locks and dead properties, keyed by virtual path.
 * Entries are dropped as soon as they are empty or expired, so memory follows
 * what clients actually lock or annotate, not what they browse.
 */
import { randomUUID } from 'node:crypto';

/** Parent chain of a clean virtual path, nearest first ("/a/b" → "/a", "/"). */
export function ancestorsOf(vpath: string): string[] {
  const out: string[] = [];
  let p = vpath;
  while (p !== '/') {
    const i = p.lastIndexOf('/');
    p = i <= 0 ? '/' : p.slice(0, i);
    out.push(p);
  }
  return out;
}

const isWithin = (p: string, dir: string): boolean => p !== dir && (dir === '/' || p.startsWith(`${dir}/`));

export interface DavLock {
  readonly token: string;
  readonly root: string;
  readonly depth: 0 | 'infinity';
  readonly scope: 'exclusive' | 'shared';
  /** the client's DAV:owner content, re-serialized (self-contained XML) */
  readonly ownerXml: string;
  /** seconds; undefined = Infinite */
  timeout: number | undefined;
  expiresAt: number;
}

/** A dead property: its name and the whole element, serialized self-contained. */
export interface DeadProp { ns: string; local: string; xml: string }

export const propKey = (ns: string, local: string): string => `{${ns}}${local}`;

export class UserDavState {
  private readonly locks = new Map<string, DavLock[]>();
  private readonly props = new Map<string, Map<string, DeadProp>>();

  constructor(private readonly now: () => number = Date.now) {}

  /** Live (unexpired) locks rooted exactly at this path. */
  locksAt(vpath: string): DavLock[] {
    const list = this.locks.get(vpath);
    if (!list) return [];
    const t = this.now();
    const live = list.filter((l) => l.expiresAt > t);
    if (live.length === 0) this.locks.delete(vpath);
    else if (live.length !== list.length) this.locks.set(vpath, live);
    return live;
  }

  /** Locks that apply to `vpath`: its own plus depth-infinity locks of its ancestors. */
  locksCovering(vpath: string): DavLock[] {
    const out = [...this.locksAt(vpath)];
    for (const a of ancestorsOf(vpath)) out.push(...this.locksAt(a).filter((l) => l.depth === 'infinity'));
    return out;
  }

  /** Locks rooted strictly below `vpath`, grouped by their root. */
  locksBelow(vpath: string): DavLock[][] {
    const out: DavLock[][] = [];
    for (const k of [...this.locks.keys()]) {
      if (!isWithin(k, vpath)) continue;
      const live = this.locksAt(k);
      if (live.length) out.push(live);
    }
    return out;
  }

  /** A lock covering `vpath` with this token. */
  findCovering(vpath: string, token: string): DavLock | undefined {
    return this.locksCovering(vpath).find((l) => l.token === token);
  }

  addLock(l: Omit<DavLock, 'token' | 'expiresAt'>): DavLock {
    const lock: DavLock = { ...l, token: `urn:uuid:${randomUUID()}`, expiresAt: 0 };
    this.refresh(lock, l.timeout);
    this.locks.set(l.root, [...this.locksAt(l.root), lock]);
    return lock;
  }

  refresh(lock: DavLock, timeout: number | undefined): void {
    lock.timeout = timeout;
    lock.expiresAt = timeout === undefined ? Number.POSITIVE_INFINITY : this.now() + timeout * 1000;
  }

  removeLock(lock: DavLock): void {
    const rest = this.locksAt(lock.root).filter((l) => l !== lock);
    if (rest.length) this.locks.set(lock.root, rest);
    else this.locks.delete(lock.root);
  }

  /** Drops locks and properties of a path and everything below it (after DELETE/MOVE). */
  forget(vpath: string): void {
    for (const m of [this.locks, this.props] as Map<string, unknown>[]) {
      for (const k of [...m.keys()]) if (k === vpath || isWithin(k, vpath)) m.delete(k);
    }
  }

  /** Carries dead properties along with a moved or copied tree (locks never move, RFC 4918 §7.7). */
  transferProps(from: string, to: string, keepSource: boolean): void {
    const moved: [string, Map<string, DeadProp>][] = [];
    for (const [k, bag] of this.props) {
      if (k === from || isWithin(k, from)) moved.push([to + k.slice(from.length), bag]);
    }
    // the target tree was replaced: its old properties are gone
    for (const k of [...this.props.keys()]) if (k === to || isWithin(k, to)) this.props.delete(k);
    if (!keepSource) this.forgetProps(from);
    for (const [k, bag] of moved) this.props.set(k, keepSource ? new Map(bag) : bag);
  }

  private forgetProps(vpath: string): void {
    for (const k of [...this.props.keys()]) if (k === vpath || isWithin(k, vpath)) this.props.delete(k);
  }

  propsAt(vpath: string): ReadonlyMap<string, DeadProp> {
    return this.props.get(vpath) ?? new Map();
  }

  setProps(vpath: string, bag: Map<string, DeadProp>): void {
    if (bag.size === 0) this.props.delete(vpath);
    else this.props.set(vpath, bag);
  }
}

/** One UserDavState per username; owned by one webdav service instance. */
export class DavStates {
  private readonly users = new Map<string, UserDavState>();
  forUser(username: string): UserDavState {
    let s = this.users.get(username);
    if (!s) {
      s = new UserDavState();
      this.users.set(username, s);
    }
    return s;
  }
}
