/**
 * The per-session handle table. Handles are 4 opaque bytes (a counter that
 * is never reused within the session), well under the 256-byte limit.
 * Each entry counts the requests using it so CLOSE and session teardown
 * can wait for them before closing the underlying transfer.
 */
import type { Download, Upload } from '../../common/types';
import type { FileInfo } from '../../vfs/fs';

interface Tracked {
  /** requests currently using this handle */
  busy: number;
  /** resolved when busy drops to 0 */
  idleWaiters: Array<() => void>;
}

export interface FileEntry extends Tracked {
  kind: 'file';
  vpath: string;
  download?: Download;
  upload?: Upload;
  /** READ allowed: a download, or an upload opened with READ|WRITE */
  readable: boolean;
  /** passes when the last WRITE sent on this handle was taken inline or, pooled, has settled: the next one waits for it (write handler) */
  writeTurn?: Promise<void>;
}

export interface DirEntry extends Tracked {
  kind: 'dir';
  vpath: string;
  iter: AsyncIterator<FileInfo[]>;
  /** entries read from the backend and not yet sent */
  queue: FileInfo[];
  /** "." and ".." still to be sent first */
  dots: FileInfo[];
  done: boolean;
}

export type HandleEntry = FileEntry | DirEntry;

export class HandleTable {
  private readonly map = new Map<number, HandleEntry>();
  private counter = 0;

  constructor(readonly max: number) {}

  get size(): number {
    return this.map.size;
  }

  get full(): boolean {
    return this.map.size >= this.max;
  }

  add(entry: HandleEntry): Buffer {
    this.counter = (this.counter + 1) >>> 0;
    const h = Buffer.allocUnsafe(4);
    h.writeUInt32BE(this.counter, 0);
    this.map.set(this.counter, entry);
    return h;
  }

  get(handle: Buffer): HandleEntry | undefined {
    if (handle.length !== 4) return undefined;
    return this.map.get(handle.readUInt32BE(0));
  }

  /** Removes and returns the entry (later requests on it fail as invalid). */
  take(handle: Buffer): HandleEntry | undefined {
    const e = this.get(handle);
    if (e) this.map.delete(handle.readUInt32BE(0));
    return e;
  }

  takeAll(): HandleEntry[] {
    const all = [...this.map.values()];
    this.map.clear();
    return all;
  }
}

export function newTracked(): Tracked {
  return { busy: 0, idleWaiters: [] };
}

/** Marks a request as using the entry; the returned function ends the use. */
export function useEntry(e: Tracked): () => void {
  e.busy++;
  let done = false;
  return () => {
    if (done) return;
    done = true;
    e.busy--;
    if (e.busy === 0) {
      const w = e.idleWaiters;
      e.idleWaiters = [];
      for (const f of w) f();
    }
  };
}

export function whenIdle(e: Tracked): Promise<void> {
  if (e.busy === 0) return Promise.resolve();
  return new Promise((resolve) => e.idleWaiters.push(resolve));
}

/** Closes what the entry holds; uploads given an error are aborted (no partial file). */
export async function closeEntry(e: HandleEntry, abort?: Error): Promise<void> {
  await whenIdle(e);
  if (e.kind === 'dir') {
    await e.iter.return?.();
    return;
  }
  if (e.upload) await e.upload.close(abort);
  else if (e.download) await e.download.close(abort);
}
