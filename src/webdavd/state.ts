/**
 * In-memory WebDAV state kept per user, as SFTPGo does (its lock system lives
 * with the cached user): locks and dead properties, keyed by virtual path.
 * Entries are dropped as soon as they are empty or expired, so memory follows
 * what clients actually lock or annotate, not what they browse.
 */
import { v2 } from 'webdav-server';

type Lock = v2.Lock;
type PropertyBag = v2.PropertyBag;

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

export class UserDavState {
  private readonly locks = new Map<string, Lock[]>();
  private readonly props = new Map<string, PropertyBag>();

  /** Live (unexpired) locks set on exactly this path. */
  locksAt(vpath: string): Lock[] {
    const list = this.locks.get(vpath);
    if (!list) return [];
    const live = list.filter((l) => !l.expired());
    if (live.length === 0) this.locks.delete(vpath);
    else if (live.length !== list.length) this.locks.set(vpath, live);
    return live;
  }

  /** Locks that apply to `vpath`: its own plus depth-infinity locks of its ancestors. */
  locksCovering(vpath: string): Lock[] {
    const out = [...this.locksAt(vpath)];
    for (const a of ancestorsOf(vpath)) out.push(...this.locksAt(a).filter((l) => l.depth === -1));
    return out;
  }

  addLock(vpath: string, lock: Lock): void {
    const list = this.locksAt(vpath);
    list.push(lock);
    this.locks.set(vpath, list);
  }

  removeLock(vpath: string, uuid: string): boolean {
    const list = this.locksAt(vpath);
    const idx = list.findIndex((l) => l.uuid === uuid);
    if (idx < 0) return false;
    list.splice(idx, 1);
    if (list.length === 0) this.locks.delete(vpath);
    return true;
  }

  /** Drops locks and properties of a path and everything below it (after DELETE/MOVE). */
  forget(vpath: string): void {
    const prefix = vpath === '/' ? '/' : `${vpath}/`;
    for (const m of [this.locks, this.props] as Map<string, unknown>[]) {
      for (const k of [...m.keys()]) if (k === vpath || k.startsWith(prefix)) m.delete(k);
    }
  }

  /** Carries dead properties along with a moved or copied tree. */
  transferProps(from: string, to: string, keepSource: boolean): void {
    const prefix = from === '/' ? '/' : `${from}/`;
    const moved: [string, PropertyBag][] = [];
    for (const [k, bag] of this.props) {
      if (k === from || k.startsWith(prefix)) moved.push([to + k.slice(from.length), bag]);
    }
    if (!keepSource) for (const [k] of moved) this.props.delete(from + k.slice(to.length));
    for (const [k, bag] of moved) this.props.set(k, keepSource ? structuredClone(bag) : bag);
  }

  propsAt(vpath: string): PropertyBag {
    return this.props.get(vpath) ?? {};
  }

  setProps(vpath: string, bag: PropertyBag): void {
    if (Object.keys(bag).length === 0) this.props.delete(vpath);
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

/** ILockManager for one path of one user. getLock also sees inherited locks so If-header tokens match. */
export class PathLockManager implements v2.ILockManager {
  constructor(private readonly state: UserDavState, private readonly vpath: string) {}
  getLocks(cb: v2.ReturnCallback<Lock[]>): void { cb(undefined, this.state.locksAt(this.vpath)); }
  setLock(lock: Lock, cb: v2.SimpleCallback): void { this.state.addLock(this.vpath, lock); cb(); }
  /** UNLOCK may name any resource inside the lock's scope (RFC 4918 §9.11). */
  removeLock(uuid: string, cb: v2.ReturnCallback<boolean>): void {
    const removed = [this.vpath, ...ancestorsOf(this.vpath)].some((p) => this.state.removeLock(p, uuid));
    cb(undefined, removed);
  }
  getLock(uuid: string, cb: v2.ReturnCallback<Lock>): void {
    cb(undefined, this.state.locksCovering(this.vpath).find((l) => l.uuid === uuid));
  }
  refresh(uuid: string, timeoutSeconds: number, cb: v2.ReturnCallback<Lock>): void {
    const lock = this.state.locksCovering(this.vpath).find((l) => l.uuid === uuid);
    if (!lock) return cb(v2.Errors.ResourceNotFound);
    lock.refresh(timeoutSeconds);
    cb(undefined, lock);
  }
}
