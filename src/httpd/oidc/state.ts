/**
 * What an OpenID Connect login remembers between requests: the pending login
 * (state → nonce, PKCE verifier, audience, next page; two minutes, used once)
 * and, per web session it opened, the ID token for the end-session call at
 * logout. A non-shared provider keeps them in this process; with
 * data_provider.is_shared 1 they are the provider's shared_sessions rows
 * (SFTPGo's OIDC auth and token sessions), so a login started on one node
 * finishes on any, and its state is taken atomically: one callback wins.
 */
import type { ServerContext } from '../../common/context';
import { MemorySharedSessionStore, SharedSessionType, takeSharedSession, type SharedSessionStore } from '../../dataprovider/shared-sessions';

export type Audience = 'admin' | 'client';
export interface PendingLogin { nonce: string; verifier: string; audience: Audience; next?: string }

/** SFTPGo's authStateValidity */
export const PENDING_TTL_MS = 2 * 60_000;
const MAX_PENDING = 10_000;
/** an OIDC session is remembered (for the end-session call) at most as long as the longest web session */
const SESSION_MEMORY_MS = 12 * 3600_000;
const MAX_SESSIONS = 50_000;
/** the shared_sessions key column's width: a longer state or session id cannot be one this server issued */
const MAX_KEY_LENGTH = 128;

function pendingOf(data: string): PendingLogin | undefined {
  try {
    const v = JSON.parse(data) as Partial<PendingLogin>;
    if (typeof v.nonce !== 'string' || typeof v.verifier !== 'string' || (v.audience !== 'admin' && v.audience !== 'client')) return undefined;
    return { nonce: v.nonce, verifier: v.verifier, audience: v.audience, ...(typeof v.next === 'string' ? { next: v.next } : {}) };
  } catch {
    return undefined;
  }
}

export class OidcState {
  constructor(private readonly store: SharedSessionStore = new MemorySharedSessionStore(), private readonly now: () => number = Date.now) {}

  /** the provider's store when it is shared between nodes, else this process's */
  static for(ctx: ServerContext): OidcState {
    return new OidcState(ctx.config.data_provider.is_shared === 1 ? ctx.provider.backend.sharedSessions : new MemorySharedSessionStore());
  }

  /** false when too many logins are pending (bounded: a flood of login links cannot grow the store without limit) */
  async addPending(state: string, p: PendingLogin): Promise<boolean> {
    const now = this.now();
    await this.store.deleteExpiredSessions(SharedSessionType.oidcAuth, now);
    if (await this.store.countSessions(SharedSessionType.oidcAuth) >= MAX_PENDING) return false;
    await this.store.putSession({ key: state, type: SharedSessionType.oidcAuth, data: JSON.stringify(p), expiresAt: now + PENDING_TTL_MS });
    return true;
  }

  /** The live pending login of this state, used up by this call; undefined when unknown, expired or already taken. */
  async takePending(state: string): Promise<PendingLogin | undefined> {
    if (state === '' || state.length > MAX_KEY_LENGTH) return undefined;
    const row = await takeSharedSession(this.store, state, SharedSessionType.oidcAuth, this.now());
    return row && pendingOf(row.data);
  }

  async rememberToken(sid: string, idToken: string): Promise<void> {
    const now = this.now();
    await this.store.deleteExpiredSessions(SharedSessionType.oidcToken, now);
    if (await this.store.countSessions(SharedSessionType.oidcToken) >= MAX_SESSIONS) return;
    await this.store.putSession({ key: sid, type: SharedSessionType.oidcToken, data: idToken, expiresAt: now + SESSION_MEMORY_MS });
  }

  /** the ID token the web session `sid` was opened with, forgotten by this call */
  async takeToken(sid: string): Promise<string | undefined> {
    if (sid === '' || sid.length > MAX_KEY_LENGTH) return undefined;
    return (await takeSharedSession(this.store, sid, SharedSessionType.oidcToken, this.now()))?.data;
  }
}
