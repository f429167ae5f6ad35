/**
 * This process as a node of a cluster sharing one data provider
 * (data_provider.is_shared 1, SFTPGo's nodes): it registers itself with a
 * random key (stored through the KMS, as SFTPGo's node api_key), keeps a
 * heartbeat, records the sessions it holds so max_sessions counts every
 * node's, and signs/verifies the node-to-node tokens (peers.ts sends them).
 */
import { createHash, randomBytes } from 'node:crypto';
import { jwtLib } from '../util/jwt-lib';
import type { Secret } from '../dataprovider/models';
import type { ClusterStore, NodeRecord } from '../dataprovider/sql/nodes';
import type { SecretsKms } from '../kms/types';
import type { AppLogger } from '../logger/types';
import { FsError } from '../common/errors';

/** SFTPGo: a node is active while its heartbeat is younger than 2 minutes; rows silent 10× that are removed. */
export const ACTIVE_NODE_WINDOW_MS = 2 * 60_000;
const HEARTBEAT_MS = 30_000;
const NODE_AUDIENCE = 'node';
const NODE_TOKEN_LIFETIME_SEC = 60;

export interface NodeSettings { host: string; port: number; proto: string }

export interface NodeData { host: string; port: number; proto: string; api_key: Secret }

/** What a verified node token carries: on whose behalf the peer asks, and for what. */
export interface NodeClaims { username: string; role: string; permissions: string[] }

export interface ClusterNodeOptions {
  store: ClusterStore;
  kms: SecretsKms;
  logger: AppLogger;
  settings: NodeSettings;
  now?: () => number;
  /** heartbeat period (tests may shorten it) */
  heartbeatMs?: number;
}

/** SFTPGo's node name: hex sha256 of "host:port". */
export function nodeName(host: string, port: number): string {
  return createHash('sha256').update(`${host}:${port}`).digest('hex');
}

export function validateNodeSettings(s: NodeSettings): void {
  if (!s.host) throw new FsError('Generic', 'data_provider.node.host is mandatory when data_provider.is_shared is 1');
  if (!Number.isInteger(s.port) || s.port < 0 || s.port > 65535) throw new FsError('Generic', `invalid data_provider.node.port: ${s.port}`);
  if (s.proto !== 'http' && s.proto !== 'https') throw new FsError('Generic', `invalid data_provider.node.proto: ${s.proto}`);
}

export class ClusterNode {
  readonly name: string;
  private readonly key = randomBytes(32).toString('base64url');
  private readonly now: () => number;
  private timer: NodeJS.Timeout | undefined;
  /** single-use node tokens: token → expiry (ms) */
  private readonly usedTokens = new Map<string, number>();

  constructor(private readonly opts: ClusterNodeOptions) {
    validateNodeSettings(opts.settings);
    this.name = nodeName(opts.settings.host, opts.settings.port);
    this.now = opts.now ?? Date.now;
  }

  get baseUrl(): string { return baseUrlOf(this.opts.settings); }

  /** Registers this node and starts its heartbeat. */
  async start(): Promise<void> {
    const { host, port, proto } = this.opts.settings;
    const apiKey = await this.opts.kms.encrypt(this.key, host);
    const data: NodeData = { host, port, proto, api_key: apiKey };
    await this.opts.store.upsertNode(this.name, JSON.stringify(data), this.now());
    await this.opts.store.clearSessions(this.name);
    this.opts.logger.info('cluster', `node ${this.name} registered as ${this.baseUrl}`);
    this.timer = setInterval(() => { this.heartbeat().catch(() => undefined); }, this.opts.heartbeatMs ?? HEARTBEAT_MS);
    this.timer.unref();
  }

  private async heartbeat(): Promise<void> {
    try {
      if (!(await this.opts.store.touchNode(this.name, this.now()))) await this.start();
      await this.opts.store.cleanupNodes(this.now() - 10 * ACTIVE_NODE_WINDOW_MS);
    } catch (e) {
      this.opts.logger.warn('cluster', `node heartbeat failed: ${(e as Error).message}`);
    }
    const now = this.now();
    for (const [t, exp] of this.usedTokens) if (exp <= now) this.usedTokens.delete(t);
  }

  /** Stops the heartbeat and forgets this node's sessions (its row ages out as SFTPGo's do). */
  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    await this.opts.store.clearSessions(this.name).catch(() => undefined);
    // no longer active: peers stop calling it at once (a restarted worker registers again)
    await this.opts.store.touchNode(this.name, 0).catch(() => false);
  }

  activeSince(): number { return this.now() - ACTIVE_NODE_WINDOW_MS; }

  peers(): Promise<NodeRecord[]> { return this.opts.store.listNodes(this.activeSince(), this.name); }

  peer(name: string): Promise<NodeRecord | undefined> { return this.opts.store.getNode(name, this.activeSince()); }

  // ---- sessions (max_sessions across nodes) ----

  /**
   * Records a session and returns the user's session count on every active node,
   * this one included. Two nodes admitting at once both see both rows: the
   * caller refuses above the limit, so a tie refuses rather than exceeds.
   */
  async sessionOpened(connectionId: string, username: string): Promise<number> {
    await this.opts.store.addSession(connectionId, this.name, username, this.now());
    return this.opts.store.countSessions(username, this.activeSince());
  }

  async sessionClosed(connectionId: string): Promise<void> {
    await this.opts.store.removeSession(connectionId);
  }

  countSessions(username: string): Promise<number> {
    return this.opts.store.countSessions(username, this.activeSince());
  }

  // ---- node tokens (SFTPGo: HS256 with the target node's key, audience "node", 1 minute) ----

  /** A token the peer `target` accepts, on behalf of `claims.username`. */
  async tokenFor(target: NodeRecord, claims: NodeClaims): Promise<string> {
    const data = parseNodeData(target);
    const key = await this.opts.kms.decrypt(data.api_key);
    return new (jwtLib().SignJWT)({ username: claims.username, role: claims.role, permissions: claims.permissions })
      .setProtectedHeader({ alg: 'HS256' })
      .setAudience(NODE_AUDIENCE)
      .setIssuedAt()
      // unique, so two calls in the same second are two tokens (each is accepted once)
      .setJti(randomBytes(12).toString('hex'))
      .setExpirationTime(Math.floor(this.now() / 1000) + NODE_TOKEN_LIFETIME_SEC)
      .sign(Buffer.from(key));
  }

  /** Verifies a token sent by a peer (signed with this node's key); each token is accepted once. */
  async verifyToken(token: string): Promise<NodeClaims> {
    if (!token) throw new FsError('PermissionDenied', 'no node token');
    if (this.usedTokens.has(token)) throw new FsError('PermissionDenied', 'node token already used');
    const { payload } = await jwtLib().jwtVerify(token, Buffer.from(this.key), {
      algorithms: ['HS256'], audience: NODE_AUDIENCE, currentDate: new Date(this.now()),
    });
    const username = typeof payload.username === 'string' ? payload.username : '';
    if (!username) throw new FsError('PermissionDenied', 'no admin username associated with node token');
    const permissions = Array.isArray(payload.permissions) ? payload.permissions.filter((p): p is string => typeof p === 'string') : [];
    this.usedTokens.set(token, (payload.exp ?? 0) * 1000 + 60_000);
    return { username, role: typeof payload.role === 'string' ? payload.role : '', permissions };
  }
}

export function baseUrlOf(s: { host: string; port: number; proto: string }): string {
  const host = s.host.includes(':') && !s.host.startsWith('[') ? `[${s.host}]` : s.host;
  return `${s.proto}://${host}${s.port > 0 ? `:${s.port}` : ''}`;
}

/** A node row's data, checked: a row someone else wrote badly is an error, not a crash. */
export function parseNodeData(n: NodeRecord): NodeData {
  let v: unknown;
  try { v = JSON.parse(n.data); } catch { throw new FsError('Generic', `node ${n.name}: invalid data`); }
  if (typeof v !== 'object' || v === null) throw new FsError('Generic', `node ${n.name}: invalid data`);
  const o = v as Record<string, unknown>;
  const key = o.api_key;
  if (typeof o.host !== 'string' || typeof o.port !== 'number' || (o.proto !== 'http' && o.proto !== 'https') ||
      typeof key !== 'object' || key === null || typeof (key as Secret).status !== 'string') {
    throw new FsError('Generic', `node ${n.name}: invalid data`);
  }
  return { host: o.host, port: o.port, proto: o.proto, api_key: key as Secret };
}
