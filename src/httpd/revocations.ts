/**
 * Logged-out tokens and sessions (API tokens' jti, web admin and web client
 * session ids), kept until they would have expired anyway.
 *
 * Why two stores: a JWT stays valid wherever its key is known, so with
 * `data_provider.is_shared` 1 every node signs with the same passphrase and
 * a logout on one node must be seen by the others. As SFTPGo does, a shared
 * provider keeps the ids in its shared_sessions table (type 5, invalid token)
 * and every authenticated request asks it; a single process keeps them in
 * memory. One list per HTTP service, shared by every binding, so a logout on
 * one binding also holds on the others.
 */
import type { ServerContext } from '../common/context';
import { MemorySharedSessionStore, SharedSessionType, type SharedSessionStore } from '../dataprovider/shared-sessions';

export interface RevocationList {
  /** `id` can no longer be used; `expSec` is when it would have expired (epoch seconds) */
  revoke(id: string, expSec: number): Promise<void>;
  isRevoked(id: string): Promise<boolean>;
}

/** How often expired rows are swept from the store (at most once per interval, on a revoke). */
const SWEEP_INTERVAL_MS = 60_000;

export class StoreRevocations implements RevocationList {
  private lastSweep = Number.NEGATIVE_INFINITY;

  constructor(private readonly store: SharedSessionStore, private readonly now: () => number = Date.now) {}

  async revoke(id: string, expSec: number): Promise<void> {
    const now = this.now();
    if (now - this.lastSweep >= SWEEP_INTERVAL_MS) {
      this.lastSweep = now;
      await this.store.deleteExpiredSessions(SharedSessionType.invalidToken, now);
    }
    await this.store.putSession({ key: id, type: SharedSessionType.invalidToken, data: '{}', expiresAt: expSec * 1000 });
  }

  async isRevoked(id: string): Promise<boolean> {
    return (await this.store.getSession(id, SharedSessionType.invalidToken, this.now())) !== undefined;
  }
}

/** The provider's store when it is shared between nodes, else one of this process. */
export function revocationsFor(ctx: ServerContext): RevocationList {
  return new StoreRevocations(ctx.config.data_provider.is_shared === 1 ? ctx.provider.backend.sharedSessions : new MemorySharedSessionStore());
}
