/** Counts every HTTP response and serves the Prometheus text at /metrics. */
import type { FastifyInstance } from 'fastify';
import type { Metrics } from '../../metrics/types';

export function installMetrics(app: FastifyInstance, metrics: Metrics): void {
  app.addHook('onResponse', async (_req, reply) => {
    metrics.httpRequest(reply.statusCode);
  });
  app.get('/metrics', {
    config: { auth: 'none', summary: 'Prometheus metrics', tags: ['metrics'] },
    schema: { response: { 200: { type: 'string' } } },
  }, async (_req, reply) => {
    const body = await metrics.render();
    return reply.type(metrics.contentType).send(body);
  });
}
