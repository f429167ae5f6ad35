/**
 * Web admin sessions: an HS256 JWT (audience "WebAdmin", bound to the client
 * IP unless token_validation bit 1) in an HttpOnly SameSite=Strict cookie.
 * CSRF tokens are HMACs of the session id, so a form stays valid while the
 * cookie is refreshed; forms shown before login (login, setup) use a
 * double-submit pre-session cookie instead.
 */
import { createHash, createHmac, randomBytes, randomUUID, timingSafeEqual } from 'node:crypto';
import { jwtLib } from '../../util/jwt-lib';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { MemorySharedSessionStore } from '../../dataprovider/shared-sessions';
import { StoreRevocations, type RevocationList } from '../revocations';

export const WEB_AUDIENCE = 'WebAdmin';
/** SFTPGo's audience for a password-checked login still waiting for its second factor */
export const WEB_PARTIAL_AUDIENCE = 'WebAdminPartial';
/** the passcode page must be answered soon: a half login does not linger */
const PARTIAL_LIFETIME_SEC = 5 * 60;
export const SESSION_COOKIE = 'jwt';
export const PRELOGIN_COOKIE = 'sftpgo_csrf';
export const FLASH_COOKIE = 'sftpgo_flash';
export const CSRF_FIELD = '_form_token';

export interface SessionClaims { username: string; sid: string; exp: number; iat: number }

export interface SessionOptions {
  /** empty: a random key per start (sessions end on restart, as SFTPGo) */
  passphrase: string;
  lifetimeMinutes: number;
  skipIpBinding: boolean;
  /** where logged-out sessions are kept (default: this process's memory) */
  revocations?: RevocationList;
}

export function parseCookies(header: string | undefined): Map<string, string> {
  const out = new Map<string, string>();
  if (!header) return out;
  for (const part of header.split(';')) {
    const i = part.indexOf('=');
    if (i <= 0) continue;
    const name = part.slice(0, i).trim();
    const raw = part.slice(i + 1).trim();
    try {
      out.set(name, decodeURIComponent(raw));
    } catch {
      // a malformed cookie is ignored, never fatal
    }
  }
  return out;
}

function safeEqual(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

export class WebSessions {
  private readonly key: Uint8Array;
  private readonly csrfKey: Buffer;
  private readonly lifetimeSec: number;
  /** logged-out sessions, until they would have expired (shared between nodes on a shared provider) */
  private readonly revoked: RevocationList;

  constructor(private readonly opts: SessionOptions) {
    const base = opts.passphrase ? createHash('sha256').update(`webadmin:${opts.passphrase}`).digest() : randomBytes(32);
    this.key = base;
    this.csrfKey = createHash('sha256').update(base).update('csrf').digest();
    // SFTPGo: 20 minutes by default, at most 12 hours
    const minutes = opts.lifetimeMinutes > 0 ? Math.min(opts.lifetimeMinutes, 720) : 20;
    this.lifetimeSec = minutes * 60;
    this.revoked = opts.revocations ?? new StoreRevocations(new MemorySharedSessionStore());
  }

  /** Cookies set over HTTPS get the Secure attribute. */
  private cookie(reply: FastifyReply, name: string, value: string, maxAge: number, path = '/'): void {
    const secure = reply.request.protocol === 'https' ? '; Secure' : '';
    void reply.header('set-cookie', `${name}=${encodeURIComponent(value)}; Path=${path}; Max-Age=${maxAge}; HttpOnly; SameSite=Strict${secure}`);
  }

  /** Issues a new cookie; `sid` is kept when refreshing an existing session. */
  async start(reply: FastifyReply, req: FastifyRequest, username: string, sid: string = randomUUID()): Promise<void> {
    await this.issue(reply, req, username, sid, WEB_AUDIENCE, this.lifetimeSec);
  }

  /** After the password, before the passcode: this cookie opens only the two-factor pages. */
  async startPartial(reply: FastifyReply, req: FastifyRequest, username: string): Promise<void> {
    await this.issue(reply, req, username, randomUUID(), WEB_PARTIAL_AUDIENCE, Math.min(PARTIAL_LIFETIME_SEC, this.lifetimeSec));
  }

  private async issue(reply: FastifyReply, req: FastifyRequest, username: string, sid: string, aud: string, lifetimeSec: number): Promise<void> {
    const now = Math.floor(Date.now() / 1000);
    const audience = this.opts.skipIpBinding ? [aud] : [aud, req.ip];
    const token = await new (jwtLib().SignJWT)({ username, sid })
      .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
      .setSubject(username)
      .setJti(randomUUID())
      .setIssuedAt(now)
      .setNotBefore(now - 30)
      .setExpirationTime(now + lifetimeSec)
      .setAudience(audience)
      .sign(this.key);
    this.cookie(reply, SESSION_COOKIE, token, lifetimeSec);
  }

  /** The valid session of this request, or undefined (missing, expired, other IP, logged out, half login). */
  read(req: FastifyRequest): Promise<SessionClaims | undefined> {
    return this.verify(req, WEB_AUDIENCE);
  }

  /** The half login (password checked, passcode pending) of this request, or undefined. */
  readPartial(req: FastifyRequest): Promise<SessionClaims | undefined> {
    return this.verify(req, WEB_PARTIAL_AUDIENCE);
  }

  private async verify(req: FastifyRequest, audience: string): Promise<SessionClaims | undefined> {
    const token = parseCookies(req.headers.cookie).get(SESSION_COOKIE);
    if (!token) return undefined;
    try {
      const { payload } = await jwtLib().jwtVerify(token, this.key, { algorithms: ['HS256'], audience });
      const aud = Array.isArray(payload.aud) ? payload.aud : [payload.aud];
      if (!this.opts.skipIpBinding && !aud.includes(req.ip)) return undefined;
      const { username, sid } = payload as { username?: unknown; sid?: unknown };
      if (typeof username !== 'string' || typeof sid !== 'string' || typeof payload.exp !== 'number') return undefined;
      if (await this.revoked.isRevoked(sid)) return undefined;
      return { username, sid, exp: payload.exp, iat: payload.iat ?? 0 };
    } catch {
      return undefined;
    }
  }

  /** SFTPGo refreshes the cookie while the admin is active: re-issue past half of its life. */
  needsRefresh(s: SessionClaims): boolean {
    return s.exp - Math.floor(Date.now() / 1000) < this.lifetimeSec / 2;
  }

  async end(reply: FastifyReply, s: SessionClaims | undefined): Promise<void> {
    if (s) await this.revoke(s);
    this.cookie(reply, SESSION_COOKIE, '', 0);
  }

  /** The session (or half login) can no longer be used, whatever its cookie says. */
  revoke(s: SessionClaims): Promise<void> {
    return this.revoked.revoke(s.sid, s.exp);
  }

  csrfFor(sid: string): string {
    return createHmac('sha256', this.csrfKey).update(sid).digest('base64url');
  }

  checkCsrf(sid: string, submitted: unknown): boolean {
    return typeof submitted === 'string' && submitted !== '' && safeEqual(this.csrfFor(sid), submitted);
  }

  /** Pre-login forms: a random value in a cookie, its HMAC in the form. */
  preLoginToken(req: FastifyRequest, reply: FastifyReply): string {
    let seed = parseCookies(req.headers.cookie).get(PRELOGIN_COOKIE) ?? '';
    if (!/^[A-Za-z0-9_-]{20,64}$/.test(seed)) {
      seed = randomBytes(24).toString('base64url');
      this.cookie(reply, PRELOGIN_COOKIE, seed, 3600, '/web/admin');
    }
    return this.csrfFor(`pre:${seed}`);
  }

  checkPreLogin(req: FastifyRequest, submitted: unknown): boolean {
    const seed = parseCookies(req.headers.cookie).get(PRELOGIN_COOKIE) ?? '';
    return seed !== '' && this.checkCsrf(`pre:${seed}`, submitted);
  }

  /** One-shot message shown on the next page (post/redirect/get). */
  setFlash(reply: FastifyReply, kind: 'success' | 'error', text: string): void {
    const value = Buffer.from(JSON.stringify({ kind, text: text.slice(0, 500) })).toString('base64url');
    this.cookie(reply, FLASH_COOKIE, value, 60, '/web/admin');
  }

  takeFlash(req: FastifyRequest, reply: FastifyReply): { kind: string; text: string } | undefined {
    const raw = parseCookies(req.headers.cookie).get(FLASH_COOKIE);
    if (!raw) return undefined;
    this.cookie(reply, FLASH_COOKIE, '', 0, '/web/admin');
    try {
      const v = JSON.parse(Buffer.from(raw, 'base64url').toString('utf8')) as { kind?: unknown; text?: unknown };
      if ((v.kind === 'success' || v.kind === 'error') && typeof v.text === 'string') return { kind: v.kind, text: v.text };
    } catch {
      // ignore a tampered flash cookie
    }
    return undefined;
  }
}
