/**
 * GET /api/v2/token (HTTP Basic, admin; X-SFTPGO-OTP when the admin has TOTP
 * enabled, as SFTPGo: no recovery codes here, they are for the web login) and
 * GET /api/v2/logout.
 */
import type { FastifyInstance } from 'fastify';
import type { HttpDeps } from '../../deps';
import { message } from '../../deps';
import { ApiError } from '../../errors';
import { ipAllowed } from '../../ipfilter';
import { apiResponseSchema, errorResponses } from '../../schemas/common';

const tokenSchema = {
  type: 'object',
  properties: { access_token: { type: 'string' }, expires_at: { type: 'string' } },
} as const;

export const OTP_HEADER = 'x-sftpgo-otp';

export function headerValue(v: string | string[] | undefined): string {
  return typeof v === 'string' ? v : '';
}

export function parseBasic(header: string | undefined): { username: string; password: string } | undefined {
  const m = header ? /^Basic\s+([A-Za-z0-9+/=]+)$/i.exec(header) : null;
  if (!m) return undefined;
  const decoded = Buffer.from(m[1], 'base64').toString('utf8');
  const idx = decoded.indexOf(':');
  if (idx <= 0) return undefined;
  return { username: decoded.slice(0, idx), password: decoded.slice(idx + 1) };
}

export function registerTokenRoutes(app: FastifyInstance, deps: HttpDeps): void {
  app.get('/api/v2/token', {
    config: { auth: 'none', summary: 'Get a new admin access token (HTTP Basic auth)', tags: ['token'] },
    schema: { response: { 200: tokenSchema, 429: apiResponseSchema, ...errorResponses } },
  }, async (req, reply) => {
    const ip = req.clientIp;
    if (deps.limiter.isBlocked(ip)) throw new ApiError(429, 'too many failed login attempts, retry later');
    const creds = parseBasic(req.headers.authorization);
    if (!creds) {
      reply.header('www-authenticate', 'Basic realm="SFTPGo"');
      throw new ApiError(401, 'HTTP Basic authentication required');
    }
    let admin;
    try {
      admin = await deps.ctx.provider.checkAdminAndPass(creds.username, creds.password, ip);
    } catch {
      deps.limiter.recordFailure(ip);
      // the defender scores an unknown admin (score_invalid) higher than a wrong password (score_valid)
      const known = await deps.ctx.provider.getAdmin(creds.username).catch(() => undefined);
      deps.ctx.perimeter.loginFailed(ip, 'HTTP', known ? 'valid_user' : 'invalid_user');
      deps.ctx.logger.connectionFailed({ clientIp: ip, username: creds.username, loginType: 'password', protocol: 'HTTP', error: 'invalid credentials' });
      reply.header('www-authenticate', 'Basic realm="SFTPGo"');
      throw new ApiError(401, 'invalid credentials');
    }
    if (admin.status !== 1) {
      deps.limiter.recordFailure(ip);
      throw new ApiError(401, 'invalid credentials');
    }
    if (!ipAllowed(ip, admin.filters?.allow_list)) throw new ApiError(403, 'the source IP address is not allowed for this admin');
    if (admin.filters?.totp_config?.enabled) {
      const otp = headerValue(req.headers[OTP_HEADER]).trim();
      let check: string;
      try {
        check = otp === '' ? 'missing' : await deps.ctx.provider.secrets.checkPasscode(admin.filters.totp_config, otp);
      } catch (e) {
        deps.ctx.logger.error('httpd', `admin "${admin.username}": unable to decrypt the TOTP secret: ${(e as Error).message}`);
        throw new ApiError(500, 'unable to decrypt the TOTP secret');
      }
      if (check !== 'ok') {
        deps.limiter.recordFailure(ip);
        const why = check === 'missing' ? 'TOTP enabled and no passcode provided' : check === 'replayed' ? 'TOTP passcode already used' : 'invalid TOTP passcode';
        deps.ctx.logger.connectionFailed({ clientIp: ip, username: creds.username, loginType: 'password', protocol: 'HTTP', error: why });
        reply.header('www-authenticate', 'Basic realm="SFTPGo"');
        throw new ApiError(401, 'invalid credentials');
      }
    }
    deps.limiter.recordSuccess(ip);
    return deps.tokens.issue(admin, ip);
  });

  app.get('/api/v2/logout', {
    config: { noApiKey: true, allowPending2fa: true, summary: 'Invalidate the access token', tags: ['token'] },
    schema: { response: { 200: apiResponseSchema, ...errorResponses } },
  }, async (req) => {
    if (!req.tokenId || req.tokenExp === undefined) throw new ApiError(400, 'no token to invalidate');
    await deps.tokens.revoke(req.tokenId, req.tokenExp);
    return message('Your token has been invalidated');
  });
}
