/**
 * Which uid/gid a user may carry (SFTPGo's `uid`/`gid`: files and
 * directories created for the user are given to that system account). Only
 * root can give files away, so a server running as another account accepts
 * only its own ids (or 0 = not set); anything else would be stored and never
 * enforced, and is refused naming the field.
 */
import { ValidationError } from './validation-core';

export interface RunningAs { uid: number; gid: number }

/** The server process's identity; on platforms without ids, nothing can be mapped. */
export function processIdentity(): RunningAs {
  return { uid: process.getuid?.() ?? -1, gid: process.getgid?.() ?? -1 };
}

export function checkOwnershipFields(uid: number, gid: number, runningAs: RunningAs): void {
  if (runningAs.uid === 0) return;
  for (const [field, value, own] of [['uid', uid, runningAs.uid], ['gid', gid, runningAs.gid]] as const) {
    if (value !== 0 && value !== own) {
      throw new ValidationError(`${field} ${value} cannot be honoured: the server runs as ${field} ${own} and only root can give files to another account (use 0 or ${own})`);
    }
  }
}
