/**
 * The telemetry listener (SFTPGo `telemetry` section): GET /healthz → "ok",
 * GET /metrics → Prometheus text. Started only when bind_port > 0.
 * With `auth_user_file` set, /metrics needs HTTP basic auth matching that
 * htpasswd file; /healthz stays open, as in SFTPGo (probes carry no
 * credentials). With a certificate and key it serves HTTPS only (HTTP/1.1 and,
 * when ALPN picks it, HTTP/2); SIGHUP reloads the certificate.
 */
import * as http from 'node:http';
import * as http2 from 'node:http2';
import * as https from 'node:https';
import type { AddressInfo, Socket } from 'node:net';
import type { Server as TlsServer } from 'node:tls';
import type { Service, ServerContext } from '../common/context';
import { HtpasswdFile, basicCredentials } from './htpasswd';
import { configPath, loadTelemetryTls, type TelemetryTls } from './telemetry-tls';

/** What the handler needs of a request: HTTP/1.1 and HTTP/2 compatibility requests both fit. */
interface TelemetryRequest { method?: string; url?: string; headers: http.IncomingHttpHeaders }
interface Ending { end(): unknown; end(body: string): unknown }
interface TelemetryReply {
  writeHead(status: number, headers?: http.OutgoingHttpHeaders): Ending;
  on(event: 'error', listener: () => void): unknown;
}

const UNAUTHORIZED_HEADERS = { 'WWW-Authenticate': 'Basic realm="SFTPGo telemetry"', 'Content-Type': 'text/plain; charset=utf-8' };

export function createTelemetryService(ctx: ServerContext): Service {
  const cfg = ctx.config.telemetry;
  const configDir = ctx.runtime.configDir;
  let server: http.Server | TlsServer | undefined;
  let authFile: HtpasswdFile | undefined;
  const sockets = new Set<Socket>();

  const authorized = async (req: TelemetryRequest): Promise<boolean> => {
    if (!authFile) return true;
    const creds = basicCredentials(req.headers.authorization);
    if (!creds) return false;
    try {
      return await authFile.check(creds.username, creds.password);
    } catch (e) {
      ctx.logger.error('telemetry', `auth_user_file ${authFile.path} is unusable, denying: ${e instanceof Error ? e.message : String(e)}`);
      return false;
    }
  };

  const serveMetrics = (res: TelemetryReply): void => {
    ctx.metrics.render().then(
      (text) => res.writeHead(200, { 'Content-Type': ctx.metrics.contentType }).end(text),
      (err: Error) => {
        ctx.logger.error('telemetry', `cannot render metrics: ${err.message}`);
        res.writeHead(500).end();
      },
    );
  };

  const handle = (req: TelemetryRequest, res: TelemetryReply): void => {
    res.on('error', () => undefined);
    const url = (req.url ?? '/').split('?')[0];
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.writeHead(405).end();
    } else if (url === '/healthz') {
      res.writeHead(200, { 'Content-Type': 'text/plain; charset=utf-8' }).end('ok');
    } else if (url === '/metrics') {
      void authorized(req).then((ok) => {
        if (ok) serveMetrics(res);
        else res.writeHead(401, UNAUTHORIZED_HEADERS).end('Unauthorized\n');
      });
    } else {
      res.writeHead(404).end();
    }
  };

  const createServer = (tls: TelemetryTls | undefined): http.Server | TlsServer => {
    if (!tls) return http.createServer(handle);
    const options = { cert: tls.cert, key: tls.key, minVersion: tls.minVersion, ciphers: tls.ciphers, ALPNProtocols: tls.ALPNProtocols };
    try {
      return tls.ALPNProtocols.includes('h2')
        ? http2.createSecureServer({ ...options, allowHTTP1: true }, handle)
        : https.createServer(options, handle);
    } catch (e) {
      // OpenSSL's own message ("key values mismatch", "no cipher match") does not say which setting is wrong
      throw new Error(`telemetry.certificate_file/certificate_key_file/tls_cipher_suites: ${e instanceof Error ? e.message : String(e)}`);
    }
  };

  return {
    name: 'telemetry',
    async start() {
      const authPath = configPath(cfg.auth_user_file, configDir);
      if (authPath !== '') {
        try {
          authFile = await HtpasswdFile.open(authPath);
        } catch (e) {
          throw new Error(`telemetry.auth_user_file ${authPath}: ${e instanceof Error ? e.message : String(e)}`);
        }
      }
      const srv = createServer(await loadTelemetryTls(cfg, configDir));
      srv.on('connection', (s: Socket) => {
        sockets.add(s);
        s.once('close', () => sockets.delete(s));
      });
      // a plain-HTTP request or a failed handshake on the TLS port just closes that connection
      srv.on('clientError', (_err: Error, socket: Socket) => socket.destroy());
      srv.on('tlsClientError', (_err: Error, socket: Socket) => socket.destroy());
      await new Promise<void>((resolve, reject) => {
        srv.once('error', reject);
        srv.listen(cfg.bind_port, cfg.bind_address || undefined, () => {
          srv.off('error', reject);
          resolve();
        });
      });
      srv.on('error', (err: Error) => ctx.logger.error('telemetry', `server error: ${err.message}`));
      server = srv;
      const scheme = 'setSecureContext' in srv ? 'HTTPS' : 'HTTP';
      ctx.logger.info('telemetry', `${scheme} listening on ${cfg.bind_address}:${(srv.address() as AddressInfo).port}`, { basic_auth: authFile !== undefined });
    },
    async reload() {
      const srv = server;
      if (!srv || !('setSecureContext' in srv)) return;
      try {
        const tls = await loadTelemetryTls(cfg, configDir);
        if (!tls) return;
        srv.setSecureContext({ cert: tls.cert, key: tls.key, minVersion: tls.minVersion, ciphers: tls.ciphers });
        ctx.logger.info('telemetry', 'TLS certificate reloaded');
      } catch (e) {
        ctx.logger.error('telemetry', `TLS certificate reload failed, keeping the previous one: ${e instanceof Error ? e.message : String(e)}`);
      }
    },
    async stop() {
      const srv = server;
      server = undefined;
      if (!srv) return;
      await new Promise<void>((resolve) => {
        srv.close(() => resolve());
        for (const s of sockets) s.destroy();
      });
    },
    addresses() {
      const a = server?.address();
      return a && typeof a === 'object' ? [{ address: a.address, port: a.port }] : [];
    },
  };
}
