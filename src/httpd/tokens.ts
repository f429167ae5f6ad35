/**
 * API tokens: HS256 JWTs (jose) with audience "API" (admins) or "APIUser"
 * (users, GET /api/v2/user/token) bound to the client IP; logged-out tokens
 * go to the service's revocation list (revocations.ts), shared between nodes
 * on a shared provider. Claim names follow SFTPGo's
 * (`2fa_required`, `2fa_protos`, `permissions`); the auth plugin still decides
 * from the reloaded account, the claims are informative.
 */
import { createHash, randomBytes, randomUUID } from 'node:crypto';
import { jwtLib } from '../util/jwt-lib';
import type { Admin, User } from '../dataprovider/models';
import { StoreRevocations, type RevocationList } from './revocations';
import { MemorySharedSessionStore } from '../dataprovider/shared-sessions';

export const API_AUDIENCE = 'API';
export const API_USER_AUDIENCE = 'APIUser';
export type TokenAudience = typeof API_AUDIENCE | typeof API_USER_AUDIENCE;

export interface TokenClaims {
  username: string;
  permissions: string[];
  jti: string;
  exp: number;
  /** the admin's updated_at when the token was issued (token_validation bit 2) */
  updatedAt: number;
}

export interface TokenManagerOptions {
  /** empty = random key per start (tokens die on restart, as SFTPGo) */
  passphrase: string;
  lifetimeMinutes: number;
  /** token_validation bit 1: tokens are not bound to the issuing IP */
  skipIpBinding: boolean;
  /** where logged-out tokens are kept (default: this process's memory) */
  revocations?: RevocationList;
  now?: () => number;
}

/** The revocation list could not be read (a shared provider that is down): not a verdict on the token. */
export class RevocationStoreError extends Error {}

export class TokenManager {
  private readonly key: Uint8Array;
  private readonly lifetimeSec: number;
  private readonly skipIp: boolean;
  private readonly now: () => number;
  private readonly revoked: RevocationList;

  constructor(opts: TokenManagerOptions) {
    this.key = opts.passphrase
      ? createHash('sha256').update(opts.passphrase).digest()
      : randomBytes(32);
    // SFTPGo caps the lifetime at 720 minutes; 0/negative means the default 20
    const minutes = opts.lifetimeMinutes > 0 ? Math.min(opts.lifetimeMinutes, 720) : 20;
    this.lifetimeSec = minutes * 60;
    this.skipIp = opts.skipIpBinding;
    this.now = opts.now ?? Date.now;
    this.revoked = opts.revocations ?? new StoreRevocations(new MemorySharedSessionStore(), this.now);
  }

  issue(admin: Admin, ip: string): Promise<{ access_token: string; expires_at: string }> {
    const claims: Record<string, unknown> = { username: admin.username, permissions: admin.permissions ?? [], upd: admin.updated_at ?? 0 };
    if (adminMustSetSecondFactor(admin)) claims['2fa_required'] = true;
    return this.sign(claims, admin.username, API_AUDIENCE, ip);
  }

  issueUser(user: User, ip: string): Promise<{ access_token: string; expires_at: string }> {
    const claims: Record<string, unknown> = { username: user.username, permissions: user.filters?.web_client ?? [], upd: user.updated_at ?? 0 };
    if (userMustSetSecondFactor(user)) {
      claims['2fa_required'] = true;
      claims['2fa_protos'] = user.filters?.two_factor_protocols ?? [];
    }
    return this.sign(claims, user.username, API_USER_AUDIENCE, ip);
  }

  private async sign(claims: Record<string, unknown>, subject: string, aud: TokenAudience, ip: string): Promise<{ access_token: string; expires_at: string }> {
    const nowSec = Math.floor(this.now() / 1000);
    const exp = nowSec + this.lifetimeSec;
    const audience = this.skipIp ? [aud] : [aud, ip];
    const token = await new (jwtLib().SignJWT)(claims)
      .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
      .setSubject(subject)
      .setJti(randomUUID())
      .setIssuedAt(nowSec)
      .setNotBefore(nowSec - 30)
      .setExpirationTime(exp)
      .setAudience(audience)
      .sign(this.key);
    return { access_token: token, expires_at: new Date(exp * 1000).toISOString().replace(/\.\d{3}Z$/, 'Z') };
  }

  /** Returns the claims or throws (bad signature, expired, wrong audience/IP, revoked). */
  async verify(token: string, ip: string, audience: TokenAudience = API_AUDIENCE): Promise<TokenClaims> {
    const { payload } = await jwtLib().jwtVerify(token, this.key, {
      algorithms: ['HS256'],
      audience,
      currentDate: new Date(this.now()),
    });
    const aud = Array.isArray(payload.aud) ? payload.aud : [payload.aud];
    if (!this.skipIp && !aud.includes(ip)) throw new Error('token is not valid for this IP');
    const jti = payload.jti;
    const exp = payload.exp;
    const username = payload['username'];
    if (typeof jti !== 'string' || typeof exp !== 'number' || typeof username !== 'string') {
      throw new Error('invalid token claims');
    }
    let revoked: boolean;
    try {
      revoked = await this.revoked.isRevoked(jti);
    } catch (e) {
      throw new RevocationStoreError(`cannot check whether the token was invalidated: ${e instanceof Error ? e.message : String(e)}`);
    }
    if (revoked) throw new Error('token has been invalidated');
    const perms = payload['permissions'];
    const upd = payload['upd'];
    return {
      updatedAt: typeof upd === 'number' ? upd : -1,
      username,
      permissions: Array.isArray(perms) ? perms.filter((p): p is string => typeof p === 'string') : [],
      jti,
      exp,
    };
  }

  revoke(jti: string, exp: number): Promise<void> {
    return this.revoked.revoke(jti, exp);
  }
}

/** SFTPGo: require_two_factor without an enabled TOTP configuration. */
export function adminMustSetSecondFactor(admin: Admin): boolean {
  return admin.filters?.require_two_factor === true && admin.filters.totp_config?.enabled !== true;
}

/** SFTPGo's User.MustSetSecondFactor: every protocol of two_factor_protocols must be covered by the TOTP config. */
export function userMustSetSecondFactor(user: User): boolean {
  const required = user.filters?.two_factor_protocols ?? [];
  if (required.length === 0) return false;
  const cfg = user.filters?.totp_config;
  if (!cfg?.enabled) return true;
  return required.some((p) => !(cfg.protocols ?? []).includes(p));
}
