/**
 * The WebDAV service: one HTTP(S) listener per enabled binding (port 0 means
 * disabled, as in SFTPGo), all sharing one webdav-server instance whose file
 * system delegates to the connection manager's FileOps.
 */
import { goSuitesToOpenssl, http11Alpn } from '../util/tls-suites';
import http from 'node:http';
import https from 'node:https';
import { readFileSync } from 'node:fs';
import { isAbsolute, join } from 'node:path';
import type * as net from 'node:net';
import type { AddressInfo } from 'node:net';
import type { IncomingMessage } from 'node:http';
import type { ServerContext, Service } from '../common/context';
import type { WebdavdBinding } from '../config/types';
import { LoginCache } from './auth';
import type { DavUser } from './davfs';
import { createHandler } from './handler';
import { createDavLibrary } from './library';
import { ContentTypes, customMimeMap } from './mime';
import { DavStates } from './state';
import { clientIpResolver, listenProxied } from '../perimeter/http-client';
import { httpProxySettings } from '../perimeter/proxy-accept';

import { clientAuthOptions } from '../util/tls-client-auth';

const SENDER = 'webdavd';

function resolveFile(ctx: ServerContext, p: string): string {
  return isAbsolute(p) ? p : join(ctx.runtime.configDir, p);
}

function tlsOptions(ctx: ServerContext, b: WebdavdBinding): https.ServerOptions {
  const conf = ctx.config.webdavd;
  const certFile = b.certificate_file || conf.certificate_file;
  const keyFile = b.certificate_key_file || conf.certificate_key_file;
  if (!certFile || !keyFile) throw new Error(`webdavd binding ${b.address}:${b.port}: HTTPS enabled without certificate_file/certificate_key_file`);
  const opts: https.ServerOptions = {
    cert: readFileSync(resolveFile(ctx, certFile)),
    key: readFileSync(resolveFile(ctx, keyFile)),
    minVersion: b.min_tls_version === 13 ? 'TLSv1.3' : 'TLSv1.2',
  };
  const at = `webdavd.bindings[${Math.max(0, conf.bindings.indexOf(b))}]`;
  const ciphers = goSuitesToOpenssl(b.tls_cipher_suites, `${at}.tls_cipher_suites`);
  if (ciphers !== undefined) opts.ciphers = ciphers;
  const alpn = http11Alpn(b.tls_protocols, `${at}.tls_protocols`);
  opts.ALPNProtocols = alpn.ALPNProtocols;
  if (alpn.h2Dropped) ctx.logger.warn(SENDER, `${at}.tls_protocols: HTTP/2 is not served, clients get HTTP/1.1`);
  // client_auth_type 1 requires a verified client certificate, 2 verifies one if given;
  // a verified certificate is a login credential (handler.ts)
  if (b.client_auth_type === 1 || b.client_auth_type === 2) {
    Object.assign(opts, clientAuthOptions(conf, b.client_auth_type, (f) => resolveFile(ctx, f)));
  }
  return opts;
}


export interface WebdavServiceOptions {
  /** tests: treat port 0 as "any free port" instead of "disabled" */
  ephemeralPorts?: boolean;
  /** tests: the login cache's clock in ms (to check cache.users.expiration_time without waiting) */
  now?: () => number;
}

export function createWebdavService(ctx: ServerContext, opts: WebdavServiceOptions = {}): Service {
  const conf = ctx.config.webdavd;
  const users = new WeakMap<IncomingMessage, DavUser>();
  const states = new DavStates();
  const logins = new LoginCache({
    expirationMinutes: conf.cache.users.expiration_time,
    maxSize: conf.cache.users.max_size,
    now: opts.now,
  });
  // SFTPGo: the custom mappings belong to the type cache and apply only while it is enabled
  const mimeConf = conf.cache.mime_types;
  const types = new ContentTypes({
    custom: mimeConf.enabled ? customMimeMap(mimeConf.custom_mappings) : undefined,
    cacheSize: mimeConf.enabled ? mimeConf.max_size : 0,
    log: (m) => ctx.logger.debug(SENDER, m),
  });
  const { server: library } = createDavLibrary({
    types,
    lookup: (req) => users.get(req),
    serverName: 'SFTPGo',
    version: ctx.config.common.server_version === 'short' ? '' : ctx.version.version,
    report: (where, e) => ctx.logger.error(SENDER, `unexpected error in ${where}: ${e instanceof Error ? e.stack ?? e.message : String(e)}`),
  });
  const servers: http.Server[] = [];
  /** proxy_mode 1 bindings: the TCP listener that reads the PROXY header in front of the server */
  const proxyListeners = new Map<http.Server, net.Server>();

  return {
    name: 'webdavd',
    async start() {
      for (const binding of conf.bindings) {
        if (binding.port < 0 || (binding.port === 0 && !opts.ephemeralPorts)) continue;
        const where = `webdavd binding ${binding.address}:${binding.port}`;
        const resolver = clientIpResolver(binding, where);
        const proxy = binding.proxy_mode === 1 ? httpProxySettings(ctx.config.common, where) : undefined;
        const clientIp = (req: IncomingMessage): string => resolver(req.socket, req.headers);
        const handler = createHandler({ ctx, binding, cors: conf.cors, library, users, states, logins, clientIp });
        const srv = binding.enable_https ? https.createServer(tlsOptions(ctx, binding), handler) : http.createServer(handler);
        // large uploads can be slow: no overall request timeout, but bound header time
        srv.requestTimeout = 0;
        srv.headersTimeout = 60_000;
        srv.on('clientError', (_err, socket) => { socket.destroy(); });
        if (proxy) {
          proxyListeners.set(srv, await listenProxied(srv, binding.port, binding.address || undefined, proxy, resolver.peers,
            (m) => ctx.logger.debug(SENDER, m)));
        } else {
          await new Promise<void>((resolve, reject) => {
            srv.once('error', reject);
            srv.listen(binding.port, binding.address || undefined, () => {
              srv.off('error', reject);
              resolve();
            });
          });
        }
        srv.on('error', (e) => ctx.logger.error(SENDER, `listener error: ${e.message}`));
        servers.push(srv);
        const a = (proxyListeners.get(srv) ?? srv).address() as AddressInfo;
        ctx.logger.info(SENDER, `WebDAV server listening on ${a.address}:${a.port} (https: ${binding.enable_https})`);
      }
    },
    async stop() {
      await Promise.all(servers.map((s) => new Promise<void>((resolve) => {
        const front = proxyListeners.get(s);
        if (front) {
          front.close();
          s.closeIdleConnections();
          resolve();
          return;
        }
        s.close(() => resolve());
        s.closeIdleConnections();
      })));
      servers.length = 0;
      proxyListeners.clear();
    },
    addresses() {
      return servers.map((s) => {
        const a = (proxyListeners.get(s) ?? s).address() as AddressInfo;
        return { address: a.address, port: a.port };
      });
    },
  };
}
