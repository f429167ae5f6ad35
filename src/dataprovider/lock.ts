/**
 * Serializes every backend operation through one promise queue. A
 * transaction holds the queue for its whole (async) body; calls made from
 * inside the body are recognised through AsyncLocalStorage and run directly,
 * so they neither deadlock nor let another caller's write interleave. The
 * storage is on only while a body runs (ScopedStorage: otherwise its async
 * hooks would stay on, and cost every promise in the process, for good).
 */
import { ScopedStorage } from '../util/scoped-storage';

export class OperationQueue {
  private tail: Promise<unknown> = Promise.resolve();
  private readonly inside = new ScopedStorage<true>();

  /** True when called from within a `exclusive` body. */
  get inTransaction(): boolean {
    return this.inside.getStore() === true;
  }

  /** Runs fn after every earlier queued operation has settled. */
  run<T>(fn: () => Promise<T>): Promise<T> {
    if (this.inTransaction) return fn();
    const result = this.tail.then(() => fn());
    this.tail = result.then(() => undefined, () => undefined);
    return result;
  }

  /** Like run, but nested calls made by fn (in its async context) bypass the queue. */
  exclusive<T>(fn: () => Promise<T>): Promise<T> {
    if (this.inTransaction) return fn();
    return this.run(() => this.inside.run(true, fn));
  }
}
