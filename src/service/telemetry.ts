/**
 * The telemetry listener (SFTPGo `telemetry` section): GET /healthz → "ok",
 * GET /metrics → Prometheus text. Started only when bind_port > 0.
 * htpasswd auth and TLS are not implemented: configuring them is refused at
 * start rather than silently serving metrics unprotected.
 */
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Service, ServerContext } from '../common/context';

export function createTelemetryService(ctx: ServerContext): Service {
  const cfg = ctx.config.telemetry;
  let server: http.Server | undefined;
  return {
    name: 'telemetry',
    async start() {
      if (cfg.auth_user_file !== '' || cfg.certificate_file !== '') {
        throw new Error('telemetry: auth_user_file and TLS certificates are not supported by this build');
      }
      const srv = http.createServer((req, res) => {
        res.on('error', () => undefined);
        const url = (req.url ?? '/').split('?')[0];
        if (req.method !== 'GET' && req.method !== 'HEAD') {
          res.writeHead(405).end();
        } else if (url === '/healthz') {
          res.writeHead(200, { 'Content-Type': 'text/plain; charset=utf-8' }).end('ok');
        } else if (url === '/metrics') {
          ctx.metrics.render().then(
            (text) => res.writeHead(200, { 'Content-Type': ctx.metrics.contentType }).end(text),
            (err: Error) => {
              ctx.logger.error('telemetry', `cannot render metrics: ${err.message}`);
              res.writeHead(500).end();
            },
          );
        } else {
          res.writeHead(404).end();
        }
      });
      srv.on('clientError', (_err, socket) => socket.destroy());
      await new Promise<void>((resolve, reject) => {
        srv.once('error', reject);
        srv.listen(cfg.bind_port, cfg.bind_address || undefined, () => {
          srv.off('error', reject);
          resolve();
        });
      });
      srv.on('error', (err) => ctx.logger.error('telemetry', `server error: ${err.message}`));
      server = srv;
      ctx.logger.info('telemetry', `listening on ${cfg.bind_address}:${(srv.address() as AddressInfo).port}`);
    },
    async stop() {
      const srv = server;
      server = undefined;
      if (!srv) return;
      await new Promise<void>((resolve) => {
        srv.close(() => resolve());
        srv.closeAllConnections();
      });
    },
    addresses() {
      const a = server?.address();
      return a && typeof a === 'object' ? [{ address: a.address, port: a.port }] : [];
    },
  };
}
