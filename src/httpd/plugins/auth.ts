/**
 * Authentication and authorization for /api/v2: admin JWT (Bearer) or admin
 * API key (X-SFTPGO-API-KEY), the admin's allow_list, the second-factor
 * requirement (an admin with require_two_factor and no TOTP only reaches the
 * routes marked allowPending2fa, as SFTPGo's checkAuthRequirements), then the
 * route's permissions. `auth: 'user'` routes take a user JWT (audience
 * APIUser). Runs in onRequest, before the body is read, so anonymous clients
 * cannot make the server parse large bodies.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { checkLoginConditions, mustChangePassword } from '../../dataprovider/auth';
import type { Admin, AdminPermission, User } from '../../dataprovider/models';
import { NODE_TOKEN_HEADER } from '../../cluster/peers';
import type { HttpDeps } from '../deps';
import { errorBody } from '../errors';
import { ipAllowed } from '../ipfilter';
import { adminMustSetSecondFactor, API_USER_AUDIENCE, RevocationStoreError, userMustSetSecondFactor } from '../tokens';
import { hasPermission } from '../types';

const ADMIN_2FA_REQUIRED = 'Two-factor authentication requirements not met, please configure two-factor authentication';

export const API_KEY_HEADER = 'x-sftpgo-api-key';

function deny(reply: FastifyReply, status: number, detail: string): FastifyReply {
  return reply.code(status).type('application/json').send(errorBody(status, detail));
}

/** The admin is reloaded on each call so disabling/deleting it or editing its allow list applies at once. */
async function loadActiveAdmin(deps: HttpDeps, username: string): Promise<Admin | undefined> {
  const admin = await deps.ctx.provider.getAdmin(username);
  return admin && admin.status === 1 ? admin : undefined;
}

async function authenticate(deps: HttpDeps, req: FastifyRequest, allowApiKeys: boolean): Promise<{ admin?: Admin; status?: number; detail?: string }> {
  const cfg = req.routeOptions.config;
  const nodeToken = req.headers[NODE_TOKEN_HEADER];
  if (typeof nodeToken === 'string' && nodeToken !== '') return authenticateNode(deps, req, nodeToken);
  const apiKey = req.headers[API_KEY_HEADER];
  if (typeof apiKey === 'string' && apiKey !== '') {
    if (cfg.noApiKey) return { status: 403, detail: 'API key authentication is not allowed for this endpoint' };
    if (!allowApiKeys) return { status: 403, detail: 'API key authentication is disabled for this binding' };
    try {
      const res = await deps.ctx.provider.checkApiKey(apiKey);
      if (!res.admin || res.admin.status !== 1) return { status: 401, detail: 'invalid API key' };
      req.authMethod = 'apikey';
      return { admin: res.admin };
    } catch {
      return { status: 401, detail: 'invalid API key' };
    }
  }
  const token = bearer(req);
  if (!token) return { status: 401, detail: 'no token found' };
  let claims: Awaited<ReturnType<typeof deps.tokens.verify>>;
  try {
    claims = await deps.tokens.verify(token, req.clientIp);
  } catch (e) {
    // a provider that is down is a 500 (errors table), not a misleading "invalid token"
    if (e instanceof RevocationStoreError) throw e;
    const detail = e instanceof Error && /exp/i.test(e.message) ? 'token is expired' : 'invalid token';
    return { status: 401, detail };
  }
  // outside the try: a database that does not answer is a 500 (errors table), not a misleading "invalid token"
  const admin = await loadActiveAdmin(deps, claims.username);
  if (!admin) return { status: 401, detail: 'invalid token: unknown or disabled admin' };
  // token_validation bit 2: any change to the account invalidates its tokens
  if ((deps.ctx.config.httpd.token_validation & 2) !== 0 && claims.updatedAt !== (admin.updated_at ?? 0)) {
    return { status: 401, detail: 'invalid token: the account was updated' };
  }
  req.authMethod = 'jwt';
  req.tokenId = claims.jti;
  req.tokenExp = claims.exp;
  return { admin };
}

/**
 * A call from another node of the cluster (X-SFTPGO-Node, cluster/peers.ts): the
 * token is signed with this node's key and names the admin it acts for; the admin
 * must exist and be active here, and gets only the permission the token carries.
 */
async function authenticateNode(deps: HttpDeps, req: FastifyRequest, header: string): Promise<{ admin?: Admin; status?: number; detail?: string }> {
  const cluster = deps.ctx.cluster;
  if (!cluster) return { status: 401, detail: 'the provided token cannot be authenticated' };
  try {
    const claims = await cluster.node.verifyToken(header.replace(/^Bearer\s+/i, ''));
    const admin = await loadActiveAdmin(deps, claims.username);
    if (!admin) return { status: 401, detail: 'the provided token cannot be authenticated' };
    const granted = claims.permissions.filter((p) => hasPermission(admin, [p as AdminPermission]));
    req.authMethod = 'node';
    return { admin: { ...admin, permissions: granted as AdminPermission[] } };
  } catch (e) {
    req.log.debug(`unable to authenticate node token: ${(e as Error).message}`);
    return { status: 401, detail: 'the provided token cannot be authenticated' };
  }
}

function bearer(req: FastifyRequest): string | undefined {
  const auth = req.headers.authorization;
  const m = typeof auth === 'string' ? /^Bearer\s+(\S+)$/i.exec(auth) : null;
  return m?.[1];
}

/**
 * A user-scope API key (X-SFTPGO-API-KEY): refused on the routes SFTPGo keeps
 * JWT-only and when the binding disables it (disabled_login_methods bit 128);
 * the user must allow API key auth (checked by the provider) and may log in
 * over HTTP from this address.
 */
async function authenticateUserApiKey(deps: HttpDeps, req: FastifyRequest, key: string, allowed: boolean): Promise<{ user?: User; status?: number; detail?: string }> {
  if (req.routeOptions.config.noApiKey) return { status: 403, detail: 'API key authentication is not allowed for this endpoint' };
  if (!allowed) return { status: 403, detail: 'API key authentication is disabled for this binding' };
  try {
    const res = await deps.ctx.provider.checkApiKey(key);
    if (!res.user) return { status: 401, detail: 'invalid API key' };
    checkLoginConditions(res.user, { ip: req.clientIp, protocol: 'HTTP', method: 'password' });
    req.authMethod = 'apikey';
    return { user: res.user };
  } catch {
    return { status: 401, detail: 'invalid API key' };
  }
}

/** User JWT: the user is reloaded and must still be allowed to log in over HTTP from this address. */
async function authenticateUser(deps: HttpDeps, req: FastifyRequest, userApiKeys: boolean): Promise<{ user?: User; status?: number; detail?: string }> {
  const key = req.headers[API_KEY_HEADER];
  if (typeof key === 'string' && key !== '') return authenticateUserApiKey(deps, req, key, userApiKeys);
  const token = bearer(req);
  if (!token) return { status: 401, detail: 'no token found' };
  try {
    const claims = await deps.tokens.verify(token, req.clientIp, API_USER_AUDIENCE);
    const stored = await deps.ctx.provider.getUser(claims.username);
    if (!stored) return { status: 401, detail: 'invalid token: unknown user' };
    // what the user may do over HTTP is its merged view, as at login (SFTPGo GetUserWithGroupSettings)
    const user = await deps.ctx.provider.groups.withGroupSettings(stored);
    checkLoginConditions(user, { ip: req.clientIp, protocol: 'HTTP', method: 'password' });
    if ((deps.ctx.config.httpd.token_validation & 2) !== 0 && claims.updatedAt !== (user.updated_at ?? 0)) {
      return { status: 401, detail: 'invalid token: the account was updated' };
    }
    req.tokenId = claims.jti;
    req.tokenExp = claims.exp;
    req.authMethod = 'jwt';
    return { user };
  } catch (e) {
    // a provider that is down is a 500 (errors table), not a misleading "invalid token"
    if (e instanceof RevocationStoreError) throw e;
    const detail = e instanceof Error && /exp/i.test(e.message) ? 'token is expired' : 'invalid token';
    return { status: 401, detail };
  }
}

function requirementMessage(user: User): string {
  const protocols = (user.filters?.two_factor_protocols ?? []).join(', ');
  return `Two-factor authentication requirements not met, please configure two-factor authentication for the following protocols: ${protocols}`;
}

export function installAuth(app: FastifyInstance, deps: HttpDeps, opts: { apiKeys: boolean; userApiKeys?: boolean }): void {
  app.addHook('onRequest', async (req, reply) => {
    const cfg = req.routeOptions.config;
    const url = req.routeOptions.url;
    if (cfg.auth === 'none' || url === undefined) return;
    if (cfg.auth === 'user') {
      const res = await authenticateUser(deps, req, opts.userApiKeys !== false);
      if (!res.user) {
        if (res.status === 401) reply.header('www-authenticate', 'Bearer');
        return deny(reply, res.status ?? 401, res.detail ?? 'unauthorized');
      }
      if (!cfg.allowPending2fa && userMustSetSecondFactor(res.user)) return deny(reply, 403, requirementMessage(res.user));
      // a password to change (require_password_change or expired): only the account routes (profile, password,
      // 2FA, logout) until it is changed, as SFTPGo; HTTP logins are let in precisely so it can be changed
      if (!cfg.allowPending2fa && mustChangePassword(res.user, Date.now())) {
        return deny(reply, 403, 'Password change required. Please set a new password to continue to use your account');
      }
      req.user = res.user;
      return;
    }
    if (cfg.auth !== 'admin' && !url.startsWith('/api/v2/')) return;
    const res = await authenticate(deps, req, opts.apiKeys);
    if (!res.admin) {
      if (res.status === 401) reply.header('www-authenticate', 'Bearer');
      return deny(reply, res.status ?? 401, res.detail ?? 'unauthorized');
    }
    // a node call: the node the admin called checked the admin's address
    if (req.authMethod !== 'node' && !ipAllowed(req.clientIp, res.admin.filters?.allow_list)) {
      return deny(reply, 403, 'the source IP address is not allowed for this admin');
    }
    // SFTPGo gates JWT sessions only: an API key is a separate credential the admin opted into
    if (req.authMethod === 'jwt' && !cfg.allowPending2fa && adminMustSetSecondFactor(res.admin)) {
      return deny(reply, 403, ADMIN_2FA_REQUIRED);
    }
    if (cfg.perms && cfg.perms.length > 0 && !hasPermission(res.admin, cfg.perms)) {
      return deny(reply, 403, `permission denied: one of [${cfg.perms.join(', ')}] is required`);
    }
    req.admin = res.admin;
  });
}
