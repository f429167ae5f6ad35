/**
 * Puts writes in order for backends that only append (features.randomWrite
 * false: object stores, encrypted files). SFTP clients pipeline writes and
 * may send them out of order; a write that lands past the next expected
 * offset is held here, copied (the caller's buffer may be reused), and
 * acknowledged at once: the SFTP session handles one write of a handle at a
 * time, so waiting for the gap would wait forever. Held bytes are bounded; a
 * backend error met while draining them fails the next write and the close,
 * so the upload is reported failed and aborted. A write behind what was already written,
 * or one that would need more than the bound, is refused as Unsupported:
 * the backend cannot honour it (SFTP answers SSH_FX_OP_UNSUPPORTED).
 */
import type { FileInfo, WriteHandle } from '../vfs/fs';
import { FsError } from './errors';

/** Out-of-order bytes held at most (per upload): a few SFTP windows of 32 KiB writes. */
export const MAX_PENDING_BYTES = 8 * 1024 * 1024;

const noop = (): void => undefined;

interface Pending {
  buf: Buffer;
  /** counted in pendingBytes (it arrived ahead of the next offset) */
  held: boolean;
  resolve: () => void;
  reject: (e: Error) => void;
}

export class OrderedWriteHandle implements WriteHandle {
  private next: number;
  private readonly pending = new Map<number, Pending>();
  private pendingBytes = 0;
  private failure: Error | undefined;
  private draining: Promise<void> = Promise.resolve();

  constructor(private readonly inner: WriteHandle, startOffset: number, private readonly maxPending = MAX_PENDING_BYTES) {
    this.next = startOffset;
  }

  writeAt(buf: Buffer, position: number): Promise<void> {
    if (this.failure) return Promise.reject(this.failure);
    if (position < this.next || this.pending.has(position)) {
      return Promise.reject(new FsError('Unsupported', `this storage cannot rewrite data: write at offset ${position}, next offset ${this.next}`));
    }
    if (position > this.next && this.pendingBytes + buf.length > this.maxPending) {
      return Promise.reject(new FsError('Unsupported', `write at offset ${position} is too far ahead of offset ${this.next} for this storage`));
    }
    if (position !== this.next) {
      this.pending.set(position, { buf: Buffer.from(buf), held: true, resolve: noop, reject: noop });
      this.pendingBytes += buf.length;
      return Promise.resolve();
    }
    return new Promise<void>((resolve, reject) => {
      this.pending.set(position, { buf, held: false, resolve, reject });
      this.draining = this.draining.then(() => this.drain());
    });
  }

  /** Writes every pending chunk that is now contiguous, one at a time, in order. */
  private async drain(): Promise<void> {
    // bounded: each round removes one entry from the map
    for (let p = this.pending.get(this.next); p !== undefined; p = this.pending.get(this.next)) {
      const at = this.next;
      this.pending.delete(at);
      if (p.held) this.pendingBytes -= p.buf.length;
      if (p.buf.length === 0) { p.resolve(); continue; }
      try {
        if (this.failure) throw this.failure;
        await this.inner.writeAt(p.buf, at);
        this.next = at + p.buf.length;
        p.resolve();
      } catch (e) {
        this.failure ??= e as Error;
        p.reject(e as Error);
        this.failAll();
        return;
      }
    }
  }

  private failAll(): void {
    const err = this.failure ?? new FsError('Aborted');
    for (const p of this.pending.values()) p.reject(err);
    this.pending.clear();
    this.pendingBytes = 0;
  }

  /** Data still waiting for a gap: the upload is incomplete. */
  private gapError(): FsError | undefined {
    if (this.pending.size === 0) return undefined;
    return new FsError('Generic', `upload incomplete: data missing at offset ${this.next}`);
  }

  truncate(size: number): Promise<void> {
    return this.inner.truncate(size);
  }

  stat(): Promise<FileInfo> {
    return this.inner.stat();
  }

  sync(): Promise<void> {
    return this.inner.sync();
  }

  async close(): Promise<void> {
    await this.draining;
    const gap = this.gapError() ?? this.failure;
    if (gap) {
      this.failAll();
      await this.inner.abort(gap);
      throw gap;
    }
    await this.inner.close();
  }

  /** An interrupted upload kept as far as it got: the bytes in sequence are committed, those past a gap dropped. */
  async closeReceived(): Promise<void> {
    await this.draining;
    const failure = this.failure;
    this.failAll();
    if (failure) {
      await this.inner.abort(failure);
      throw failure;
    }
    await (this.inner.closeReceived ? this.inner.closeReceived() : this.inner.close());
  }

  async abort(reason: Error): Promise<void> {
    this.failure ??= reason;
    this.failAll();
    await this.draining;
    await this.inner.abort(reason);
  }
}
