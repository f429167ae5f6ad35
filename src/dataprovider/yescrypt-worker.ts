/**
 * yescrypt off the event loop: a default-cost hash takes a few hundred
 * milliseconds of CPU in JavaScript, which must not stall every transfer
 * while one imported user logs in. Each verification runs in a worker thread;
 * with WorkerSlots at most a few run at once (each needs 128 * r * N bytes,
 * 16 MiB by default) and the others wait their turn, so a burst of logins
 * cannot exhaust memory.
 */
import { Worker, isMainThread, parentPort, workerData } from 'node:worker_threads';
import { timingSafeEqual } from 'node:crypto';
import { yescryptCrypt } from './yescrypt';

/**
 * Bounds how many hash workers run at once; the data provider service owns
 * one (no module-level state), callers without one run unbounded.
 */
export class WorkerSlots {
  private running = 0;
  private readonly queue: (() => void)[] = [];

  constructor(private readonly max = 2) {}

  async run<T>(fn: () => Promise<T>): Promise<T> {
    if (this.running >= this.max) await new Promise<void>((resolve) => this.queue.push(resolve));
    this.running++;
    try {
      return await fn();
    } finally {
      this.running--;
      this.queue.shift()?.();
    }
  }
}

function computeInWorker(password: string, setting: string): Promise<string | undefined> {
  return new Promise((resolve, reject) => {
    const w = new Worker(__filename, { workerData: { password, setting } });
    let settled = false;
    w.once('message', (m: unknown) => {
      settled = true;
      resolve(typeof m === 'string' ? m : undefined);
    });
    w.once('error', (err) => {
      settled = true;
      reject(err);
    });
    w.once('exit', (code) => {
      if (!settled) reject(new Error(`yescrypt worker exited with code ${code}`));
    });
  });
}

/** True when `plain` matches the `$y$` hash; false for a mismatch or a malformed/unsupported hash. */
export async function verifyYescrypt(plain: string, hash: string, slots?: WorkerSlots): Promise<boolean> {
  const computed = await (slots ? slots.run(() => computeInWorker(plain, hash)) : computeInWorker(plain, hash));
  if (computed === undefined) return false;
  const a = Buffer.from(computed, 'utf8');
  const b = Buffer.from(hash, 'utf8');
  return a.length === b.length && timingSafeEqual(a, b);
}

if (!isMainThread && parentPort) {
  const { password, setting } = workerData as { password: string; setting: string };
  let result: string | null = null;
  try {
    result = yescryptCrypt(password, setting) ?? null;
  } catch {
    // unsupported parameters: reported as no match
    result = null;
  }
  parentPort.postMessage(result);
}
