/**
 * yescrypt off the event loop: a default-cost hash takes a few hundred
 * milliseconds of CPU in JavaScript, which must not stall every transfer
 * while one imported user logs in. Each verification runs in a worker thread;
 * at most MAX_PARALLEL run at once (each needs 128 * r * N bytes, 16 MiB by
 * default) and the others wait their turn, so a burst of logins cannot
 * exhaust memory.
 */
import { Worker, isMainThread, parentPort, workerData } from 'node:worker_threads';
import { timingSafeEqual } from 'node:crypto';
import { yescryptCrypt } from './yescrypt';

const MAX_PARALLEL = 2;
let running = 0;
const queue: (() => void)[] = [];

async function withSlot<T>(fn: () => Promise<T>): Promise<T> {
  if (running >= MAX_PARALLEL) await new Promise<void>((resolve) => queue.push(resolve));
  running++;
  try {
    return await fn();
  } finally {
    running--;
    queue.shift()?.();
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
export async function verifyYescrypt(plain: string, hash: string): Promise<boolean> {
  const computed = await withSlot(() => computeInWorker(plain, hash));
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
