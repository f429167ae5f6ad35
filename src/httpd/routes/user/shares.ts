/**
 * The logged-in user's shares (SFTPGo 2.7): /api/v2/user/shares CRUD, closed
 * by filters.web_client "shares-disabled". New shares get a generated id, the
 * user's default expiration and are refused beyond the maximum; passwords are
 * hashed and only "[**redacted**]" is ever returned.
 */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { User } from '../../../dataprovider/models';
import { redactShare, type Share } from '../../../dataprovider/shares';
import type { HttpDeps } from '../../deps';
import { listOptions, message, type ListQuery } from '../../deps';
import { ApiError } from '../../errors';
import { listQuerySchema } from '../../schemas/common';
import { requestUser, userRestricted } from './session';

const tags = ['user APIs'];
const DAY_MS = 24 * 3600 * 1000;

export const shareSchema = {
  type: 'object',
  properties: {
    id: { type: 'string' }, name: { type: 'string' }, description: { type: 'string' }, scope: { type: 'integer' },
    paths: { type: 'array', items: { type: 'string' } }, username: { type: 'string' }, created_at: { type: 'integer' },
    updated_at: { type: 'integer' }, last_use_at: { type: 'integer' }, expires_at: { type: 'integer' }, password: { type: 'string' },
    max_tokens: { type: 'integer' }, used_tokens: { type: 'integer' }, allow_from: { type: 'array', items: { type: 'string' } },
  },
} as const;

/** SFTPGo CheckMaxShareExpiration and the default expiration for new shares (days in the user's filters). */
export function applyExpirationPolicy(user: User, body: Record<string, unknown>, isNew: boolean): Record<string, unknown> {
  const out = { ...body };
  const def = user.filters?.default_shares_expiration ?? 0;
  if (isNew && def > 0 && (out.expires_at === undefined || out.expires_at === 0)) out.expires_at = Date.now() + def * DAY_MS;
  const max = user.filters?.max_shares_expiration ?? 0;
  if (max > 0) {
    const exp = typeof out.expires_at === 'number' ? out.expires_at : 0;
    if (exp === 0) throw new ApiError(400, `the share must expire, at most ${max} days from now`);
    if (exp > Date.now() + max * DAY_MS) throw new ApiError(400, `the share expiration must be at most ${max} days from now`);
  }
  return out;
}

function checkPasswordPolicy(user: User, body: Record<string, unknown>): void {
  const pw = body.password;
  if ((pw === undefined || pw === '') && userRestricted(user, 'shares-without-password-disabled')) {
    throw new ApiError(403, 'You are not authorized to share files/folders without a password');
  }
}

/** Creates a share for `user` from untrusted JSON (also used by the web client form). */
export async function createShare(deps: HttpDeps, user: User, body: Record<string, unknown>): Promise<Share> {
  checkPasswordPolicy(user, body);
  return deps.ctx.provider.shares.add(user.username, applyExpirationPolicy(user, body, true));
}

export function registerUserShareRoutes(app: FastifyInstance, deps: HttpDeps): void {
  const shares = deps.ctx.provider.shares;
  const cfg = { auth: 'user' as const, tags, webClientDeny: 'shares-disabled' as const };
  const bodyOf = (req: FastifyRequest): Record<string, unknown> => req.body as Record<string, unknown>;

  app.get<{ Querystring: ListQuery }>('/api/v2/user/shares', {
    config: { ...cfg, summary: 'List the shares of the logged-in user' },
    schema: { querystring: listQuerySchema, response: { 200: { type: 'array', items: shareSchema } } },
  }, async (req) => (await shares.list(requestUser(req).username, listOptions(req.query))).map(redactShare));

  app.post('/api/v2/user/shares', {
    config: { ...cfg, summary: 'Add a share (the id is generated)' },
    schema: { body: { type: 'object' } },
  }, async (req, reply) => {
    const s = await createShare(deps, requestUser(req), bodyOf(req));
    void reply.header('location', `/api/v2/user/shares/${encodeURIComponent(s.id)}`).header('x-object-id', s.id);
    return reply.code(201).send(message('Share created'));
  });

  app.get<{ Params: { id: string } }>('/api/v2/user/shares/:id', {
    config: { ...cfg, summary: 'Get a share of the logged-in user' },
    schema: { response: { 200: shareSchema } },
  }, async (req) => redactShare(await shares.get(req.params.id, requestUser(req).username)));

  app.put<{ Params: { id: string } }>('/api/v2/user/shares/:id', {
    config: { ...cfg, summary: 'Update a share of the logged-in user' },
    schema: { body: { type: 'object' } },
  }, async (req) => {
    const user = requestUser(req);
    const body = bodyOf(req);
    checkPasswordPolicy(user, body);
    await shares.update(user.username, req.params.id, applyExpirationPolicy(user, body, false));
    return message('Share updated');
  });

  app.delete<{ Params: { id: string } }>('/api/v2/user/shares/:id', {
    config: { ...cfg, summary: 'Delete a share of the logged-in user' },
  }, async (req) => {
    await shares.delete(req.params.id, requestUser(req).username);
    return message('Share deleted');
  });
}
