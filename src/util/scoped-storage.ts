/**
 * An AsyncLocalStorage that is enabled only while one of its run() bodies is
 * in progress.
 *
 * Why: Node 20's AsyncLocalStorage works through an async_hooks init hook and
 * V8 promise hooks, enabled by its first run() and never turned off. From the
 * first data-provider transaction on (creating a user is one), every promise
 * and every native async request in the process paid for them: a `perf`
 * profile of an SFTP download showed promiseInitHook, emitInitNative and
 * promiseBeforeHook on the main thread for every file read and socket write.
 * Disabling the storage when its last body settles turns the hooks off again
 * (Node disables them once no storage is enabled).
 *
 * What changes for callers: getStore() outside every run() body is undefined,
 * as before; a callback that a body left behind (a timer, an unawaited
 * promise) and that runs after every body has settled now sees undefined
 * instead of the finished body's store, i.e. it no longer joins a
 * transaction that has already ended.
 */
import { AsyncLocalStorage } from 'node:async_hooks';

export class ScopedStorage<T> {
  private readonly storage = new AsyncLocalStorage<T>();
  /** run() bodies started and not yet settled */
  private active = 0;

  /** The store of the run() body this call belongs to, if any. */
  getStore(): T | undefined {
    return this.active === 0 ? undefined : this.storage.getStore();
  }

  /** Runs fn with `store` visible to everything it calls, synchronously or later, until its promise settles. */
  async run<R>(store: T, fn: () => Promise<R>): Promise<R> {
    this.active++;
    try {
      return await this.storage.run(store, fn);
    } finally {
      this.active--;
      if (this.active === 0) this.storage.disable();
    }
  }

  /** Whether the underlying storage (and so, unless another one is on, Node's async hooks) is enabled now. */
  get enabled(): boolean {
    return (this.storage as unknown as { enabled?: boolean }).enabled === true;
  }
}
