/** The logged-in admin's own account: PUT /api/v2/admin/changepwd, GET|PUT /api/v2/admin/profile (JWT only). */
import type { FastifyInstance } from 'fastify';
import { toPublicAdmin } from '../../../dataprovider/models';
import type { HttpDeps } from '../../deps';
import { executorOf, message } from '../../deps';
import { ApiError } from '../../errors';
import { adminProfileSchema, changePasswordSchema } from '../../schemas/admin';
import { apiResponseSchema, errorResponses } from '../../schemas/common';

interface Profile { email?: string; description?: string; allow_api_key_auth?: boolean }
const tags = ['admins'];

export function registerProfileRoutes(app: FastifyInstance, deps: HttpDeps): void {
  const provider = deps.ctx.provider;

  app.put<{ Body: { current_password: string; new_password: string } }>('/api/v2/admin/changepwd', {
    config: { noApiKey: true, allowPending2fa: true, summary: 'Change the password of the logged-in admin', tags },
    schema: { body: changePasswordSchema, response: { 200: apiResponseSchema, ...errorResponses } },
  }, async (req) => {
    const admin = req.admin;
    if (!admin) throw new ApiError(401, 'authentication required');
    if (req.body.current_password === req.body.new_password) throw new ApiError(400, 'the new password must be different from the current one');
    await provider.changeAdminPassword(admin.username, req.body.current_password, req.body.new_password);
    return message('Password updated');
  });

  app.get('/api/v2/admin/profile', {
    config: { noApiKey: true, allowPending2fa: true, summary: 'Profile of the logged-in admin', tags },
    schema: { response: { 200: adminProfileSchema, ...errorResponses } },
  }, async (req): Promise<Profile> => {
    const admin = req.admin;
    if (!admin) throw new ApiError(401, 'authentication required');
    return { email: admin.email ?? '', description: admin.description ?? '', allow_api_key_auth: admin.filters?.allow_api_key_auth ?? false };
  });

  app.put<{ Body: Profile }>('/api/v2/admin/profile', {
    config: { noApiKey: true, summary: 'Update the profile of the logged-in admin', tags },
    schema: { body: adminProfileSchema, response: { 200: apiResponseSchema, ...errorResponses } },
  }, async (req) => {
    const admin = req.admin;
    if (!admin) throw new ApiError(401, 'authentication required');
    const current = toPublicAdmin(admin);
    const next = {
      ...current,
      email: req.body.email ?? current.email,
      description: req.body.description ?? current.description,
      filters: { ...current.filters, allow_api_key_auth: req.body.allow_api_key_auth ?? current.filters?.allow_api_key_auth ?? false },
    };
    await provider.updateAdmin(admin.username, next, executorOf(req));
    return message('Profile updated');
  });
}
