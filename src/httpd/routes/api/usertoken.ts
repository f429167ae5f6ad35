/**
 * GET /api/v2/user/token (HTTP Basic; X-SFTPGO-OTP when the user's TOTP
 * configuration covers HTTP) and GET /api/v2/user/logout. The credential
 * check is userauth.ts; tokens have SFTPGo's "APIUser" audience.
 */
import type { FastifyInstance } from 'fastify';
import type { HttpDeps } from '../../deps';
import { message } from '../../deps';
import { ApiError } from '../../errors';
import { apiResponseSchema, errorResponses } from '../../schemas/common';
import { authenticateHttpUser } from '../../userauth';
import { headerValue, OTP_HEADER, parseBasic } from './token';

const tokenSchema = {
  type: 'object',
  properties: { access_token: { type: 'string' }, expires_at: { type: 'string' } },
} as const;
const tags = ['token'];

export function registerUserTokenRoutes(app: FastifyInstance, deps: HttpDeps): void {
  app.get('/api/v2/user/token', {
    config: { auth: 'none', summary: 'Get a new user access token (HTTP Basic auth, X-SFTPGO-OTP for TOTP users)', tags },
    schema: { response: { 200: tokenSchema, 429: apiResponseSchema, ...errorResponses } },
  }, async (req, reply) => {
    const ip = req.clientIp;
    if (deps.limiter.isBlocked(ip)) throw new ApiError(429, 'too many failed login attempts, retry later');
    const creds = parseBasic(req.headers.authorization);
    if (!creds) {
      reply.header('www-authenticate', 'Basic realm="SFTPGo"');
      throw new ApiError(401, 'Unauthorized');
    }
    const res = await authenticateHttpUser(deps.ctx, { ...creds, otp: headerValue(req.headers[OTP_HEADER]), ip });
    if (!res.ok) {
      if (res.status === 401) {
        deps.limiter.recordFailure(ip);
        reply.header('www-authenticate', 'Basic realm="SFTPGo"');
      }
      throw new ApiError(res.status, res.status === 500 ? 'Internal Server Error' : res.status === 403 ? 'Forbidden' : 'Unauthorized');
    }
    deps.limiter.recordSuccess(ip);
    return deps.tokens.issueUser(res.user, ip);
  });

  app.get('/api/v2/user/logout', {
    config: { auth: 'user', noApiKey: true, allowPending2fa: true, summary: 'Invalidate the user access token', tags },
    schema: { response: { 200: apiResponseSchema, ...errorResponses } },
  }, async (req) => {
    if (!req.tokenId || req.tokenExp === undefined) throw new ApiError(400, 'no token to invalidate');
    await deps.tokens.revoke(req.tokenId, req.tokenExp);
    return message('Your token has been invalidated');
  });
}
