/**
 * Web client sessions: HS256 JWTs in HttpOnly SameSite=Strict cookies scoped
 * to /web/client, signed with a key of their own (derived apart from the web
 * admin's, so a user cookie can never be read as an admin one). Audiences:
 * a full user session, a half login waiting for the TOTP passcode, and a
 * share session (a password-protected share opened by a visitor; its cookie
 * is scoped to that share's path). CSRF tokens are HMACs of the session id.
 */
import { createHash, createHmac, randomBytes, randomUUID, timingSafeEqual } from 'node:crypto';
import { jwtLib } from '../../../util/jwt-lib';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { parseCookies } from '../session';
import { MemorySharedSessionStore } from '../../../dataprovider/shared-sessions';
import { StoreRevocations, type RevocationList } from '../../revocations';

export const CLIENT_BASE = '/web/client';
const AUD_USER = 'WebClient';
const AUD_PARTIAL = 'WebClientPartial';
const AUD_SHARE = 'WebShare';
const USER_COOKIE = 'sftpgo_client';
const SHARE_COOKIE = 'sftpgo_share';
const PRELOGIN_COOKIE = 'sftpgo_client_csrf';
const FLASH_COOKIE = 'sftpgo_client_flash';
const PARTIAL_LIFETIME_SEC = 5 * 60;

export interface ClientClaims { username: string; sid: string; exp: number }

export interface ClientSessionOptions {
  passphrase: string; lifetimeMinutes: number; shareLifetimeMinutes: number; skipIpBinding: boolean;
  /** where logged-out sessions are kept (default: this process's memory) */
  revocations?: RevocationList;
}

function safeEqual(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

export class ClientSessions {
  private readonly key: Uint8Array;
  private readonly csrfKey: Buffer;
  private readonly lifetimeSec: number;
  private readonly shareLifetimeSec: number;
  /** logged-out sessions, until they would have expired (shared between nodes on a shared provider) */
  private readonly revoked: RevocationList;

  constructor(private readonly opts: ClientSessionOptions) {
    const base = opts.passphrase ? createHash('sha256').update(`webclient:${opts.passphrase}`).digest() : randomBytes(32);
    this.key = base;
    this.csrfKey = createHash('sha256').update(base).update('csrf').digest();
    this.lifetimeSec = (opts.lifetimeMinutes > 0 ? Math.min(opts.lifetimeMinutes, 720) : 20) * 60;
    this.shareLifetimeSec = (opts.shareLifetimeMinutes > 0 ? Math.min(opts.shareLifetimeMinutes, 720) : 120) * 60;
    this.revoked = opts.revocations ?? new StoreRevocations(new MemorySharedSessionStore());
  }

  private cookie(reply: FastifyReply, name: string, value: string, maxAge: number, path: string): void {
    const secure = reply.request.protocol === 'https' ? '; Secure' : '';
    void reply.header('set-cookie', `${name}=${encodeURIComponent(value)}; Path=${path}; Max-Age=${maxAge}; HttpOnly; SameSite=Strict${secure}`);
  }

  private async issue(reply: FastifyReply, req: FastifyRequest, subject: string, sid: string, aud: string, lifetime: number, cookie: string, path: string): Promise<void> {
    const now = Math.floor(Date.now() / 1000);
    const token = await new (jwtLib().SignJWT)({ username: subject, sid })
      .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
      .setSubject(subject).setJti(randomUUID()).setIssuedAt(now).setNotBefore(now - 30).setExpirationTime(now + lifetime)
      .setAudience(this.opts.skipIpBinding ? [aud] : [aud, req.clientIp])
      .sign(this.key);
    this.cookie(reply, cookie, token, lifetime, path);
  }

  private async verify(req: FastifyRequest, cookie: string, aud: string): Promise<ClientClaims | undefined> {
    const token = parseCookies(req.headers.cookie).get(cookie);
    if (!token) return undefined;
    try {
      const { payload } = await jwtLib().jwtVerify(token, this.key, { algorithms: ['HS256'], audience: aud });
      const auds = Array.isArray(payload.aud) ? payload.aud : [payload.aud];
      if (!this.opts.skipIpBinding && !auds.includes(req.clientIp)) return undefined;
      const { username, sid } = payload as { username?: unknown; sid?: unknown };
      if (typeof username !== 'string' || typeof sid !== 'string' || typeof payload.exp !== 'number') return undefined;
      if (await this.revoked.isRevoked(sid)) return undefined;
      return { username, sid, exp: payload.exp };
    } catch {
      return undefined;
    }
  }

  start(reply: FastifyReply, req: FastifyRequest, username: string, sid: string = randomUUID()): Promise<void> {
    return this.issue(reply, req, username, sid, AUD_USER, this.lifetimeSec, USER_COOKIE, CLIENT_BASE);
  }
  startPartial(reply: FastifyReply, req: FastifyRequest, username: string): Promise<void> {
    return this.issue(reply, req, username, randomUUID(), AUD_PARTIAL, Math.min(PARTIAL_LIFETIME_SEC, this.lifetimeSec), USER_COOKIE, CLIENT_BASE);
  }
  read(req: FastifyRequest): Promise<ClientClaims | undefined> { return this.verify(req, USER_COOKIE, AUD_USER); }
  readPartial(req: FastifyRequest): Promise<ClientClaims | undefined> { return this.verify(req, USER_COOKIE, AUD_PARTIAL); }
  needsRefresh(s: ClientClaims): boolean { return s.exp - Math.floor(Date.now() / 1000) < this.lifetimeSec / 2; }

  /** A visitor who gave a share's password: the cookie opens that share only. */
  startShare(reply: FastifyReply, req: FastifyRequest, shareId: string): Promise<void> {
    return this.issue(reply, req, shareId, randomUUID(), AUD_SHARE, this.shareLifetimeSec, SHARE_COOKIE, sharePath(shareId));
  }
  async readShare(req: FastifyRequest, shareId: string): Promise<ClientClaims | undefined> {
    const c = await this.verify(req, SHARE_COOKIE, AUD_SHARE);
    return c && c.username === shareId ? c : undefined;
  }

  async end(reply: FastifyReply, s: ClientClaims | undefined): Promise<void> {
    if (s) await this.revoke(s);
    this.cookie(reply, USER_COOKIE, '', 0, CLIENT_BASE);
  }
  revoke(s: ClientClaims): Promise<void> {
    return this.revoked.revoke(s.sid, s.exp);
  }

  csrfFor(sid: string): string { return createHmac('sha256', this.csrfKey).update(sid).digest('base64url'); }
  checkCsrf(sid: string, submitted: unknown): boolean {
    return typeof submitted === 'string' && submitted !== '' && safeEqual(this.csrfFor(sid), submitted);
  }

  /** Forms shown before a session exists (login, share password): double-submit cookie. */
  preLoginToken(req: FastifyRequest, reply: FastifyReply): string {
    let seed = parseCookies(req.headers.cookie).get(PRELOGIN_COOKIE) ?? '';
    if (!/^[A-Za-z0-9_-]{20,64}$/.test(seed)) {
      seed = randomBytes(24).toString('base64url');
      this.cookie(reply, PRELOGIN_COOKIE, seed, 3600, CLIENT_BASE);
    }
    return this.csrfFor(`pre:${seed}`);
  }
  checkPreLogin(req: FastifyRequest, submitted: unknown): boolean {
    const seed = parseCookies(req.headers.cookie).get(PRELOGIN_COOKIE) ?? '';
    return seed !== '' && this.checkCsrf(`pre:${seed}`, submitted);
  }

  setFlash(reply: FastifyReply, kind: 'success' | 'error', text: string): void {
    this.cookie(reply, FLASH_COOKIE, Buffer.from(JSON.stringify({ kind, text: text.slice(0, 500) })).toString('base64url'), 60, CLIENT_BASE);
  }
  takeFlash(req: FastifyRequest, reply: FastifyReply): { kind: string; text: string } | undefined {
    const raw = parseCookies(req.headers.cookie).get(FLASH_COOKIE);
    if (!raw) return undefined;
    this.cookie(reply, FLASH_COOKIE, '', 0, CLIENT_BASE);
    try {
      const v = JSON.parse(Buffer.from(raw, 'base64url').toString('utf8')) as { kind?: unknown; text?: unknown };
      if ((v.kind === 'success' || v.kind === 'error') && typeof v.text === 'string') return { kind: v.kind, text: v.text };
    } catch {
      // a tampered flash cookie is ignored
    }
    return undefined;
  }
}

export function sharePath(shareId: string): string {
  return `${CLIENT_BASE}/pubshares/${encodeURIComponent(shareId)}`;
}
