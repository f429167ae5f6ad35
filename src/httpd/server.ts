/**
 * The HTTP service: one Fastify instance per httpd binding with a port (or a
 * Unix socket path as address), REST API v2, OpenAPI, /metrics, HTTPS with
 * certificate reload on SIGHUP.
 */
import { revocationsFor } from './revocations';
import type { AddressInfo, Server } from 'node:net';
import type { FastifyInstance } from 'fastify';
import type { ServerContext, Service } from '../common/context';
import type { HttpdBinding } from '../config/types';
import { buildApp, type BuiltApp } from './app';
import type { HttpDeps } from './deps';
import { ResetCodes } from './pwreset';
import { QuotaScanner } from './quotascan';
import { LoginLimiter, type LoginLimiterOptions } from './ratelimit';
import { loadTls } from './tls';
import { TokenManager } from './tokens';
import { signingPassphrase } from './signing';
import { listenProxied } from '../perimeter/http-client';
import { httpProxySettings } from '../perimeter/proxy-accept';


export interface HttpServiceOptions {
  /** state of the other services for GET /api/v2/status (keys ssh, ftp, webdav, ...) */
  serviceStatus: () => Record<string, unknown>;
  /** failed token requests allowed per IP per window (default 10 per minute) */
  tokenRateLimit?: LoginLimiterOptions;
  /** tests: a binding with port 0 listens on an OS-chosen port instead of being disabled */
  ephemeralPorts?: boolean;
}

export interface HttpService extends Service {
  /** background quota scans (tests and shutdown wait on scans.whenIdle()) */
  readonly scans: QuotaScanner;
  /** the running Fastify instances, one per binding */
  apps(): BuiltApp[];
}

function isUnixSocket(address: string): boolean {
  return address.startsWith('/');
}

async function listen(app: FastifyInstance, b: HttpdBinding): Promise<void> {
  if (isUnixSocket(b.address)) {
    await app.listen({ path: b.address });
    return;
  }
  if (b.address !== '') {
    await app.listen({ port: b.port, host: b.address });
    return;
  }
  // "" = every interface: dual-stack when IPv6 exists, IPv4 otherwise
  try {
    await app.listen({ port: b.port, host: '::' });
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code !== 'EAFNOSUPPORT' && code !== 'EADDRNOTAVAIL') throw e;
    await app.listen({ port: b.port, host: '0.0.0.0' });
  }
}

export function createHttpService(ctx: ServerContext, opts: HttpServiceOptions): HttpService {
  const httpd = ctx.config.httpd;
  const bindings = httpd.bindings.filter((b) => b.port > 0 || isUnixSocket(b.address) || (opts.ephemeralPorts === true && b.port === 0));
  const scans = new QuotaScanner(ctx);
  /** front: the TCP listener reading PROXY headers for a proxy_mode 1 binding */
  let running: { binding: HttpdBinding; built: BuiltApp; front?: Server }[] = [];

  const makeDeps = (revocations = revocationsFor(ctx)): HttpDeps => ({
    ctx,
    tokens: new TokenManager({
      passphrase: signingPassphrase(ctx),
      lifetimeMinutes: httpd.jwt_lifetime,
      skipIpBinding: (httpd.token_validation & 1) !== 0,
      revocations,
    }),
    revocations,
    limiter: new LoginLimiter(opts.tokenRateLimit ?? { maxFailures: 10, windowMs: 60_000 }),
    scans,
    resetCodes: ResetCodes.for(ctx),
    serviceStatus: opts.serviceStatus,
  });

  return {
    name: 'httpd',
    scans,
    apps: () => running.map((r) => r.built),

    async start(): Promise<void> {
      const deps = makeDeps();
      scans.resume();
      try {
        for (const binding of bindings) {
          const tls = binding.enable_https ? await loadTls(httpd, binding, ctx.runtime.configDir) : undefined;
          if (tls?.h2Dropped) ctx.logger.warn('httpd', `httpd binding ${binding.address}:${binding.port}: tls_protocols names h2, HTTP/2 is not served, clients get HTTP/1.1`);
          const built = await buildApp(deps, { binding, tls });
          const entry: { binding: HttpdBinding; built: BuiltApp; front?: Server } = { binding, built };
          running.push(entry);
          if (binding.proxy_mode === 1) {
            entry.front = await listenProxied(built.app.server, binding.port, binding.address || undefined,
              httpProxySettings(ctx.config.common, `httpd binding ${binding.address}:${binding.port}`), built.clientIp.peers,
              (m) => ctx.logger.debug('httpd', m));
          } else {
            await listen(built.app, binding);
          }
          const a = (entry.front ?? built.app.server).address();
          const where = typeof a === 'string' ? a : `${a?.address ?? ''}:${a?.port ?? 0}`;
          ctx.logger.info('httpd', `HTTP${tls ? 'S' : ''} server listening on ${where}`);
        }
      } catch (e) {
        for (const r of running) r.front?.close();
        await Promise.allSettled(running.map((r) => r.built.app.close()));
        running = [];
        throw e;
      }
    },

    async stop(): Promise<void> {
      const apps = running;
      running = [];
      for (const r of apps) {
        if (!r.front) continue;
        r.front.close();
        // the HTTP server never listened itself: Fastify's close leaves its idle keep-alive sockets open
        r.built.app.server.closeIdleConnections();
      }
      await Promise.allSettled(apps.map((r) => r.built.app.close()));
      // the provider is closed after the services stop: no scan may outlive us
      await scans.abortAll();
    },

    async reload(): Promise<void> {
      for (const { binding, built } of running) {
        if (!built.httpsServer) continue;
        try {
          const tls = await loadTls(httpd, binding, ctx.runtime.configDir);
          // swaps the certificate for new handshakes; the listener keeps running
          built.httpsServer.setSecureContext({ cert: tls.cert, key: tls.key, minVersion: tls.minVersion, ciphers: tls.ciphers });
          ctx.logger.info('httpd', `TLS certificate reloaded for binding port ${binding.port}`);
        } catch (e) {
          ctx.logger.error('httpd', `TLS certificate reload failed, keeping the previous one: ${e instanceof Error ? e.message : String(e)}`);
        }
      }
    },

    addresses(): { address: string; port: number }[] {
      return running.map(({ built, front }) => {
        const a = (front ?? built.app.server).address();
        if (typeof a === 'string') return { address: a, port: 0 };
        const info = a as AddressInfo | null;
        return { address: info?.address ?? '', port: info?.port ?? 0 };
      });
    },
  };
}
