/**
 * The error and not-found handlers: every failure becomes SFTPGo's
 * `{"error","message"}` body with a status from the one table in ../errors.ts.
 * Internal errors are logged with their detail and answered generically.
 */
import type { FastifyInstance } from 'fastify';
import type { AppLogger } from '../../logger/types';
import { classifyError, errorBody } from '../errors';

export function installErrorHandlers(app: FastifyInstance, logger: AppLogger): void {
  app.setErrorHandler((err, req, reply) => {
    const { status, detail, internal } = classifyError(err);
    if (internal) {
      logger.error('httpd', `request ${req.method} ${req.url} failed: ${err instanceof Error ? err.message : String(err)}`, {
        request_id: req.id,
      });
    }
    void reply.code(status).type('application/json').send(errorBody(status, detail));
  });
  app.setNotFoundHandler((req, reply) => {
    void reply.code(404).type('application/json').header('x-route-not-found', '1')
      .send(errorBody(404, `route not found: ${req.method} ${req.url.split('?')[0]}`));
  });
}
