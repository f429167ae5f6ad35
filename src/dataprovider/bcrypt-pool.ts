/**
 * bcrypt comparisons on worker threads. bcryptjs is pure JavaScript: on the
 * main thread every comparison holds the event loop (its async form only
 * slices the work), so a flood of wrong passwords delayed every other
 * client's handshake. Measured with `BENCH_ONLY=perimeter npm run bench` on
 * the 2-core machine: a key-auth SFTP login took 699 ms (median) during
 * 10,000 bcrypt-checked failures, 66 ms without them; with this pool 195 ms
 * (113 ms without, same run). An idle worker is unref'd (it never keeps the
 * process alive), a busy one is ref'd until it answers; a worker that cannot start or dies leaves the
 * comparison to the main thread, so a login never fails for that reason.
 * One pool per process, as the libuv threadpool argon2 runs on: it holds no
 * per-server state, so two servers in one process (tests) share it safely.
 */
import { Worker } from 'node:worker_threads';
import { availableParallelism } from 'node:os';
import bcrypt from 'bcryptjs';

const WORKER_SOURCE = `
const { parentPort } = require('node:worker_threads');
const bcrypt = require(${JSON.stringify(require.resolve('bcryptjs'))});
parentPort.on('message', ({ id, plain, hash }) => {
  let ok = false;
  try { ok = bcrypt.compareSync(plain, hash); } catch { ok = false; }
  parentPort.postMessage({ id, ok });
});
`;

interface Slot { worker: Worker; busy: number }

export class BcryptPool {
  private readonly slots: Slot[] = [];
  private readonly pending = new Map<number, { resolve: (ok: boolean) => void; plain: string; hash: string }>();
  private nextId = 0;
  private broken = false;

  constructor(private readonly size = Math.max(1, Math.min(4, availableParallelism() - 1))) {}

  private start(): void {
    for (let i = 0; i < this.size; i++) {
      const worker = new Worker(WORKER_SOURCE, { eval: true });
      const slot: Slot = { worker, busy: 0 };
      worker.on('message', (m: { id: number; ok: boolean }) => {
        const p = this.pending.get(m.id);
        if (!p) return;
        this.pending.delete(m.id);
        slot.busy--;
        // idle workers never keep the process alive; busy ones do, until their answer is in
        if (slot.busy === 0) worker.unref();
        p.resolve(m.ok);
      });
      worker.on('error', () => this.fail());
      worker.on('exit', () => this.fail());
      // after the listeners: adding a 'message' listener refs the worker's port again
      worker.unref();
      this.slots.push(slot);
    }
  }

  /** A dead pool answers what is pending on the main thread, and every later call too. */
  private fail(): void {
    if (this.broken) return;
    this.broken = true;
    for (const s of this.slots) void s.worker.terminate().catch(() => undefined);
    for (const [id, p] of this.pending) {
      this.pending.delete(id);
      void bcrypt.compare(p.plain, p.hash).then(p.resolve, () => p.resolve(false));
    }
  }

  /** Stops the workers; later comparisons run on the main thread (tests). */
  async close(): Promise<void> {
    this.fail();
  }

  compare(plain: string, hash: string): Promise<boolean> {
    if (!this.broken && this.slots.length === 0) {
      try {
        this.start();
      } catch {
        this.broken = true;
      }
    }
    if (this.broken) return bcrypt.compare(plain, hash);
    const slot = this.slots.reduce((a, b) => (b.busy < a.busy ? b : a));
    const id = this.nextId++;
    if (slot.busy++ === 0) slot.worker.ref();
    return new Promise((resolve) => {
      this.pending.set(id, { resolve, plain, hash });
      slot.worker.postMessage({ id, plain, hash });
    });
  }
}
