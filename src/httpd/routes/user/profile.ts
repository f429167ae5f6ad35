/**
 * The logged-in user's own account (SFTPGo 2.7): GET|PUT /api/v2/user/profile
 * and PUT /api/v2/user/changepwd. What may change follows filters.web_client
 * (info-change-disabled, publickey-change-disabled, api-key-auth-change-disabled,
 * password-change-disabled); a changed password invalidates the token used.
 */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { ServerContext } from '../../../common/context';
import type { User } from '../../../dataprovider/models';
import type { Executor } from '../../../dataprovider/types';
import type { HttpDeps } from '../../deps';
import { message } from '../../deps';
import { ApiError } from '../../errors';
import { apiResponseSchema, errorResponses } from '../../schemas/common';
import { requestUser, userRestricted } from './session';

const tags = ['user APIs'];

export interface UserProfileBody {
  email?: string;
  description?: string;
  allow_api_key_auth?: boolean;
  public_keys?: string[];
  additional_emails?: string[];
}

const profileSchema = {
  type: 'object',
  properties: {
    email: { type: 'string', maxLength: 255 },
    description: { type: 'string', maxLength: 1024 },
    allow_api_key_auth: { type: 'boolean' },
    public_keys: { type: 'array', items: { type: 'string', maxLength: 16384 }, maxItems: 100 },
    additional_emails: { type: 'array', items: { type: 'string', maxLength: 255 }, maxItems: 20 },
  },
} as const;

export function profileOf(user: User): UserProfileBody {
  return {
    email: user.email ?? '', description: user.description ?? '', allow_api_key_auth: user.filters?.allow_api_key_auth ?? false,
    public_keys: user.public_keys ?? [], additional_emails: user.filters?.additional_emails ?? [],
  };
}

/** The editable parts of a profile, as SFTPGo's CanManagePublicKeys/CanChangeInfo/CanChangeAPIKeyAuth decide. */
export function profileRights(user: User): { keys: boolean; info: boolean; apiKey: boolean } {
  return {
    keys: !userRestricted(user, 'publickey-change-disabled'),
    info: !userRestricted(user, 'info-change-disabled'),
    apiKey: !userRestricted(user, 'api-key-auth-change-disabled'),
  };
}

/** Applies an update (the parts the user may change); validation errors come from the provider as 400s. */
export async function updateProfile(deps: HttpDeps, user: User, body: UserProfileBody, executor: Executor): Promise<void> {
  const rights = profileRights(user);
  if (!rights.keys && !rights.info && !rights.apiKey) throw new ApiError(403, 'You are not allowed to change anything');
  const { password: _hash, ...rest } = user;
  const next: User = { ...rest, filters: { ...user.filters } };
  if (rights.keys) next.public_keys = body.public_keys ?? [];
  if (rights.apiKey) next.filters = { ...next.filters, allow_api_key_auth: body.allow_api_key_auth ?? false };
  if (rights.info) {
    next.email = body.email ?? '';
    next.description = body.description ?? '';
    next.filters = { ...next.filters, additional_emails: body.additional_emails ?? [] };
  }
  await deps.ctx.provider.updateUser(user.username, next, executor);
}

/** SFTPGo doChangeUserPassword: the current password is checked, the new one must differ (and pass validation). */
export async function changeUserPassword(deps: HttpDeps, user: User, current: string, next: string, confirm: string, executor: Executor): Promise<void> {
  if (current === '' || next === '' || confirm === '') throw new ApiError(400, 'please provide the current password and the new one two times');
  if (next !== confirm) throw new ApiError(400, 'the two password fields do not match');
  if (current === next) throw new ApiError(400, 'the new password must be different from the current one');
  try {
    await deps.ctx.provider.checkUserAndPass(user.username, current, { ip: executor.ip, protocol: 'HTTP' });
  } catch {
    throw new ApiError(400, 'current password does not match');
  }
  await setUserPassword(deps.ctx, user.username, next, executor);
}

/** Stores a new password (a change or an emailed reset); the "must change" flag is then satisfied, as in SFTPGo. */
export async function setUserPassword(ctx: ServerContext, username: string, next: string, executor: Executor): Promise<void> {
  // the stored account, not the request's group-merged view (group settings must not be written into the user)
  const stored = await ctx.provider.getUser(username);
  if (!stored) throw new ApiError(404, 'user not found');
  const { password: _hash, ...rest } = stored;
  const filters = { ...(rest.filters ?? {}), require_password_change: false };
  await ctx.provider.updateUser(username, { ...rest, filters, password: next }, executor);
}

export function selfExecutor(req: FastifyRequest, user: User): Executor {
  // SFTPGo's ActionExecutorSelf
  return { username: '__self__', ip: req.clientIp, role: user.role };
}

export function registerUserProfileRoutes(app: FastifyInstance, deps: HttpDeps): void {
  app.get('/api/v2/user/profile', {
    config: { auth: 'user', noApiKey: true, allowPending2fa: true, summary: 'Profile of the logged-in user', tags },
    schema: { response: { 200: profileSchema, ...errorResponses } },
  }, async (req) => profileOf(requestUser(req)));

  app.put<{ Body: UserProfileBody }>('/api/v2/user/profile', {
    config: { auth: 'user', noApiKey: true, summary: 'Update the profile of the logged-in user', tags },
    schema: { body: profileSchema, response: { 200: apiResponseSchema, ...errorResponses } },
  }, async (req) => {
    const user = requestUser(req);
    await updateProfile(deps, user, req.body, selfExecutor(req, user));
    return message('Profile updated');
  });

  app.put<{ Body: { current_password?: string; new_password?: string } }>('/api/v2/user/changepwd', {
    config: { auth: 'user', noApiKey: true, allowPending2fa: true, webClientDeny: 'password-change-disabled', summary: 'Change the password of the logged-in user', tags },
    schema: {
      body: { type: 'object', properties: { current_password: { type: 'string', maxLength: 4096 }, new_password: { type: 'string', maxLength: 4096 } } },
      response: { 200: apiResponseSchema, ...errorResponses },
    },
  }, async (req) => {
    const user = requestUser(req);
    const next = req.body.new_password ?? '';
    await changeUserPassword(deps, user, req.body.current_password ?? '', next, next, selfExecutor(req, user));
    if (req.tokenId && req.tokenExp !== undefined) await deps.tokens.revoke(req.tokenId, req.tokenExp);
    return message('Password updated');
  });
}
