/**
 * Registers the end-user REST API in its own Fastify scope, so the
 * filters.web_client gate (SFTPGo checkHTTPUserPerm) runs for these routes
 * only, after the auth plugin has loaded the user.
 */
import type { FastifyInstance } from 'fastify';
import type { HttpDeps } from '../../deps';
import { registerUserFileRoutes } from './files';
import { registerUserProfileRoutes } from './profile';
import { registerUserShareRoutes } from './shares';
import { registerAdminShareRoutes } from './adminshares';
import { registerPublicShareRoutes } from '../shares/public';
import { checkRestriction } from './session';
import { registerUserUploadRoutes } from './upload';

export function registerUserApi(app: FastifyInstance, deps: HttpDeps): void {
  void app.register(async (scope) => {
    scope.addHook('preHandler', async (req) => { checkRestriction(req); });
    registerUserProfileRoutes(scope, deps);
    registerUserFileRoutes(scope, deps);
    registerUserUploadRoutes(scope, deps);
    registerUserShareRoutes(scope, deps);
    registerPublicShareRoutes(scope, deps);
    registerAdminShareRoutes(scope, deps);
  });
}
