/**
 * Web state that every node of a shared provider must see (SFTPGo's
 * shared_sessions table): emailed password reset codes, OpenID Connect
 * pending logins and tokens, and logged-out tokens and sessions. A row is keyed by (key, type), carries JSON and
 * expires at `expiresAt`. Taking a row is get-then-delete where only the
 * caller whose DELETE removed the row wins, so of two nodes taking the same
 * code exactly one gets it. The memory implementation serves single-process
 * providers and the suite.
 */

/** SFTPGo's SessionType values */
export const SharedSessionType = { oidcAuth: 1, oidcToken: 2, resetCode: 3, invalidToken: 5 } as const;
export type SharedSessionKind = typeof SharedSessionType[keyof typeof SharedSessionType];

export interface SharedSession {
  key: string;
  type: SharedSessionKind;
  data: string;
  /** epoch ms; the row is dead from then on */
  expiresAt: number;
}

export interface SharedSessionStore {
  /** adds or replaces the row */
  putSession(s: SharedSession): Promise<void>;
  /** the row if it exists and has not expired at nowMs */
  getSession(key: string, type: SharedSessionKind, nowMs: number): Promise<SharedSession | undefined>;
  /** true only for the caller whose delete removed the row */
  deleteSession(key: string, type: SharedSessionKind): Promise<boolean>;
  /** removes the rows of this type expired at nowMs */
  deleteExpiredSessions(type: SharedSessionKind, nowMs: number): Promise<void>;
  countSessions(type: SharedSessionKind): Promise<number>;
}

/**
 * Atomic single use: the live row, removed, or undefined when it is missing,
 * expired, refused by `accept` (left in place) or taken by someone else first.
 */
export async function takeSharedSession(store: SharedSessionStore, key: string, type: SharedSessionKind, nowMs: number,
  accept: (s: SharedSession) => boolean = () => true): Promise<SharedSession | undefined> {
  const s = await store.getSession(key, type, nowMs);
  if (!s || !accept(s)) return undefined;
  return (await store.deleteSession(key, type)) ? s : undefined;
}

export class MemorySharedSessionStore implements SharedSessionStore {
  private readonly rows = new Map<string, SharedSession>();

  private static id(key: string, type: SharedSessionKind): string { return `${String(type)}\u0000${key}`; }

  async putSession(s: SharedSession): Promise<void> { this.rows.set(MemorySharedSessionStore.id(s.key, s.type), { ...s }); }

  async getSession(key: string, type: SharedSessionKind, nowMs: number): Promise<SharedSession | undefined> {
    const s = this.rows.get(MemorySharedSessionStore.id(key, type));
    return s && s.expiresAt > nowMs ? { ...s } : undefined;
  }

  async deleteSession(key: string, type: SharedSessionKind): Promise<boolean> {
    return this.rows.delete(MemorySharedSessionStore.id(key, type));
  }

  async deleteExpiredSessions(type: SharedSessionKind, nowMs: number): Promise<void> {
    for (const [id, s] of this.rows) if (s.type === type && s.expiresAt <= nowMs) this.rows.delete(id);
  }

  async countSessions(type: SharedSessionKind): Promise<number> {
    let n = 0;
    for (const s of this.rows.values()) if (s.type === type) n++;
    return n;
  }
}
