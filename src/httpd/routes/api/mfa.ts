/**
 * Two-factor enrolment for the logged-in admin (/api/v2/admin/...) and user
 * (/api/v2/user/..., user token): TOTP configs, generate, validate, save, and
 * recovery codes, with SFTPGo 2.7's paths, bodies and rules (api_mfa.go). Plus
 * the 2FA reset of another account: PUT /api/v2/{admins,users}/{username}/2fa/disable.
 * All JWT only, and reachable while the account must still set up its 2FA.
 */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { lazy } from '../../../util/lazy';
import { userInScope } from '../../scope';
import type { RecoveryCode, TotpConfig } from '../../../dataprovider/models';
import { type AccountKind, generateRecoveryCodes, parseSecret, unusedRecoveryCodes } from '../../../dataprovider/secrets';
import { generateTotpSecret, otpauthUrl, validateTotpSecret } from '../../../mfa/totp';
import type { HttpDeps } from '../../deps';
import { executorOf, message } from '../../deps';
import { ApiError } from '../../errors';
import { apiResponseSchema, errorResponses, paramsFor, stringArray } from '../../schemas/common';

// qrcode loads with the first two-factor setup page, not with the server
const qrCodes = lazy(() => require('qrcode') as typeof import('qrcode'));

const totpConfigSchema = { type: 'object', properties: { name: { type: 'string' }, issuer: { type: 'string' }, algo: { type: 'string' } } } as const;
const generateBody = { type: 'object', properties: { config_name: { type: 'string' } }, required: ['config_name'] } as const;
const generateResponse = {
  type: 'object',
  properties: { config_name: { type: 'string' }, issuer: { type: 'string' }, secret: { type: 'string' }, url: { type: 'string' }, qr_code: { type: 'string' } },
} as const;
const validateBody = {
  type: 'object',
  properties: { config_name: { type: 'string' }, passcode: { type: 'string' }, secret: { type: 'string' } },
  required: ['config_name', 'passcode', 'secret'],
} as const;
const saveBody = {
  type: 'object',
  properties: { enabled: { type: 'boolean' }, config_name: { type: 'string' }, secret: { type: 'object' }, protocols: stringArray },
} as const;
const recoveryCodesResponse = { type: 'array', items: { type: 'object', properties: { code: { type: 'string' }, used: { type: 'boolean' } } } } as const;

interface SaveBody { enabled?: boolean; config_name?: string; secret?: unknown; protocols?: string[] }
interface Account {
  kind: AccountKind;
  username: string;
  totp?: TotpConfig;
  codes?: RecoveryCode[];
  /** admins: filters.require_two_factor */
  requireTwoFactor: boolean;
  /** users: filters.two_factor_protocols */
  requiredProtocols: string[];
}

const RECOVERY_FORBIDDEN = 'recovery codes are not available with two-factor authentication disabled';

/** SFTPGo's saveTOTPConfig rules; returns what to seal and store. */
function nextSecondFactor(acc: Account, body: SaveBody): { totp_config?: TotpConfig; recovery_codes?: RecoveryCode[] } {
  const enabled = body.enabled === true;
  if (!enabled && acc.requireTwoFactor) throw new ApiError(400, 'two-factor authentication must be enabled');
  if (acc.kind === 'user') {
    const required = acc.requiredProtocols;
    if (!enabled && required.length > 0) throw new ApiError(400, 'two-factor authentication must be enabled');
    const protocols = body.protocols ?? [];
    if (enabled && required.some((p) => !protocols.includes(p))) {
      throw new ApiError(400, `totp: the following protocols are required: "${required.join(', ')}"`);
    }
  }
  if (!enabled) return {};
  const submitted = parseSecret(body.secret, 'secret');
  // a missing or non-plain secret keeps the current one (the UI re-saves protocols only)
  const secret = submitted && submitted.status === 'Plain' ? submitted : acc.totp?.secret;
  if (submitted && submitted.status === 'Plain') {
    try {
      validateTotpSecret(submitted.payload ?? '');
    } catch (e) {
      throw new ApiError(400, (e as Error).message);
    }
  }
  const totp: TotpConfig = { enabled: true, config_name: body.config_name ?? '' };
  if (secret) totp.secret = secret;
  if (acc.kind === 'user') totp.protocols = body.protocols ?? [];
  // SFTPGo regenerates the codes when fewer than 5 are left
  const codes = unusedRecoveryCodes(acc.codes) < 5 ? generateRecoveryCodes().stored : acc.codes;
  return { totp_config: totp, recovery_codes: codes };
}

export function registerMfaRoutes(app: FastifyInstance, deps: HttpDeps): void {
  const provider = deps.ctx.provider;
  const secrets = provider.secrets;

  async function accountOf(kind: AccountKind, req: FastifyRequest): Promise<Account> {
    if (kind === 'admin') {
      const a = req.admin ? await provider.getAdmin(req.admin.username) : undefined;
      if (!a) throw new ApiError(401, 'authentication required');
      return { kind, username: a.username, totp: a.filters?.totp_config, codes: a.filters?.recovery_codes, requireTwoFactor: a.filters?.require_two_factor === true, requiredProtocols: [] };
    }
    const u = req.user ? await provider.getUser(req.user.username) : undefined;
    if (!u) throw new ApiError(401, 'authentication required');
    return { kind, username: u.username, totp: u.filters?.totp_config, codes: u.filters?.recovery_codes, requireTwoFactor: false, requiredProtocols: u.filters?.two_factor_protocols ?? [] };
  }

  function webClientAllowsMfa(req: FastifyRequest): void {
    if (req.user?.filters?.web_client?.includes('mfa-disabled')) throw new ApiError(403, 'Forbidden');
  }

  for (const kind of ['admin', 'user'] as const) {
    const prefix = `/api/v2/${kind}`;
    const base = { auth: kind, noApiKey: true, allowPending2fa: true, tags: [kind === 'admin' ? 'admins' : 'users'] } as const;
    const check = kind === 'user' ? webClientAllowsMfa : (): void => undefined;

    app.get(`${prefix}/totp/configs`, {
      config: { ...base, tags: [...base.tags], summary: 'Available TOTP configurations (mfa.totp)' },
      schema: { response: { 200: { type: 'array', items: totpConfigSchema }, ...errorResponses } },
    }, async (req) => {
      check(req);
      return deps.ctx.config.mfa.totp.map((t) => ({ name: t.name, issuer: t.issuer, algo: t.algo }));
    });

    app.post<{ Body: { config_name: string } }>(`${prefix}/totp/generate`, {
      config: { ...base, tags: [...base.tags], summary: 'Generate a new TOTP secret, its URL and QR code (PNG, base64)' },
      schema: { body: generateBody, response: { 200: generateResponse, ...errorResponses } },
    }, async (req) => {
      check(req);
      const acc = await accountOf(kind, req);
      const cfg = secrets.totp.config(req.body.config_name);
      if (!cfg) throw new ApiError(400, `totp: no configuration "${req.body.config_name}"`);
      const secret = generateTotpSecret();
      const url = otpauthUrl(cfg, `${kind === 'admin' ? 'Admin' : 'User'} "${acc.username}"`, secret);
      const png = await qrCodes().toBuffer(url, { type: 'png', width: 200, margin: 1 });
      return { config_name: cfg.name, issuer: cfg.issuer, secret, url, qr_code: png.toString('base64') };
    });

    app.post<{ Body: { config_name: string; passcode: string; secret: string } }>(`${prefix}/totp/validate`, {
      config: { ...base, tags: [...base.tags], summary: 'Check a passcode against a secret before saving it' },
      schema: { body: validateBody, response: { 200: apiResponseSchema, ...errorResponses } },
    }, async (req) => {
      check(req);
      if (!secrets.totp.config(req.body.config_name)) throw new ApiError(400, `totp: no configuration "${req.body.config_name}"`);
      if (secrets.totp.check(req.body.config_name, req.body.passcode, req.body.secret) !== 'ok') throw new ApiError(400, 'Invalid passcode');
      return message('Passcode successfully validated');
    });

    app.post<{ Body: SaveBody }>(`${prefix}/totp/save`, {
      config: { ...base, tags: [...base.tags], summary: 'Enable/disable TOTP (secret as {"status":"Plain","payload":...})' },
      schema: { body: saveBody, response: { 200: apiResponseSchema, ...errorResponses } },
    }, async (req) => {
      check(req);
      const acc = await accountOf(kind, req);
      await provider.saveSecondFactor(kind, acc.username, nextSecondFactor(acc, req.body), { username: acc.username, ip: req.clientIp });
      return message('TOTP configuration saved');
    });

    app.get(`${prefix}/2fa/recoverycodes`, {
      config: { ...base, tags: [...base.tags], summary: 'The recovery codes and whether each was used' },
      schema: { response: { 200: recoveryCodesResponse, ...errorResponses } },
    }, async (req) => {
      check(req);
      const acc = await accountOf(kind, req);
      if (!acc.totp?.enabled) throw new ApiError(403, RECOVERY_FORBIDDEN);
      return secrets.revealRecoveryCodes(acc.codes);
    });

    app.post(`${prefix}/2fa/recoverycodes`, {
      config: { ...base, tags: [...base.tags], summary: 'Replace the recovery codes with 12 new ones' },
      schema: { response: { 200: stringArray, ...errorResponses } },
    }, async (req) => {
      check(req);
      const acc = await accountOf(kind, req);
      if (!acc.totp?.enabled) throw new ApiError(403, RECOVERY_FORBIDDEN);
      const codes = generateRecoveryCodes();
      await provider.saveSecondFactor(kind, acc.username, { totp_config: acc.totp, recovery_codes: codes.stored }, { username: acc.username, ip: req.clientIp });
      return codes.plain;
    });
  }

  app.put<{ Params: { username: string } }>('/api/v2/admins/:username/2fa/disable', {
    config: { perms: ['manage_admins'], summary: 'Disable the second factor of an admin', tags: ['admins'] },
    schema: { params: paramsFor('username'), response: { 200: apiResponseSchema, ...errorResponses } },
  }, async (req) => {
    const target = await provider.getAdmin(req.params.username);
    if (!target) throw new ApiError(404, `admin ${req.params.username} not found`);
    if (!target.filters?.totp_config?.enabled) throw new ApiError(400, 'two-factor authentication is not enabled');
    if (target.username === req.admin?.username && target.filters.require_two_factor) {
      throw new ApiError(400, 'two-factor authentication must be enabled');
    }
    await provider.saveSecondFactor('admin', target.username, {}, executorOf(req));
    return message('2FA disabled');
  });

  app.put<{ Params: { username: string } }>('/api/v2/users/:username/2fa/disable', {
    config: { perms: ['disable_mfa'], summary: 'Disable the second factor of a user', tags: ['users'] },
    schema: { params: paramsFor('username'), response: { 200: apiResponseSchema, ...errorResponses } },
  }, async (req) => {
    const target = await userInScope(provider, req, req.params.username);
    if (!target.filters?.totp_config?.enabled) throw new ApiError(400, 'two-factor authentication is not enabled');
    await provider.saveSecondFactor('user', target.username, {}, executorOf(req));
    return message('2FA disabled');
  });
}
