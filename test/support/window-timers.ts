/** Manual timers for channel-pacing.ts's bounded window waits: tests fire or inspect them by hand. */
import { windowWaitTimers } from '../../src/sftpd/channel-pacing';

export interface ManualTimer { fn: () => void; ms: number; cleared: boolean }

/** Runs `fn` with the wait timers replaced by entries of `timers`; the real ones come back after. */
export function withManualWindowTimers<T>(fn: (timers: ManualTimer[]) => T): T {
  const timers: ManualTimer[] = [];
  const own = { set: windowWaitTimers.set, clear: windowWaitTimers.clear };
  windowWaitTimers.set = (f, ms) => { const t = { fn: f, ms, cleared: false }; timers.push(t); return t; };
  windowWaitTimers.clear = (h) => { (h as ManualTimer).cleared = true; };
  try {
    return fn(timers);
  } finally {
    windowWaitTimers.set = own.set;
    windowWaitTimers.clear = own.clear;
  }
}
