/**
 * The FTP/FTPS service: one listener per enabled `ftpd.bindings[]` entry,
 * sessions on the shared core (provider, connection manager, FileOps).
 * Our own small FTP engine instead of ftp-srv: see src/ftpd/README.md for
 * the measured reasons.
 */
import * as net from 'node:net';
import * as tls from 'node:tls';
import * as path from 'node:path';
import { readFile } from 'node:fs/promises';
import type { ServerContext, Service } from '../common/context';
import type { FtpdBinding } from '../config/types';
import { FtpSession } from './session';
import { PassivePorts } from './ports';
import { loadTlsMaterial, type TlsMaterial } from './tls';
import { normalizeIp } from './addr';
import { acceptProxied, compileProxySettings, presentPeer, type ProxyProtocolSettings } from '../perimeter/proxy-accept';

interface Listener { binding: FtpdBinding; tls: TlsMaterial; server: net.Server }

async function loadBanner(ctx: ServerContext): Promise<string> {
  const file = ctx.config.ftpd.banner_file;
  const fallback = `SFTPGo ${ctx.version.version} FTP Server`;
  if (!file) return fallback;
  const abs = path.isAbsolute(file) ? file : path.join(ctx.runtime.configDir, file);
  try {
    const text = (await readFile(abs, 'utf8')).trim();
    return text === '' ? fallback : text.split(/\r?\n/).join(' ');
  } catch (e) {
    ctx.logger.warn('ftpd', `unable to read banner file ${abs}: ${String((e as Error).message)}`);
    return fallback;
  }
}

export interface FtpServiceOptions {
  /** how long a PROXY protocol header may take (tests); SFTPGo's 10 s by default */
  proxyHeaderTimeoutMs?: number;
}

export function createFtpService(ctx: ServerContext, options: FtpServiceOptions = {}): Service {
  const cfg = ctx.config.ftpd;
  const common = ctx.config.common;
  let proxy: ProxyProtocolSettings | undefined;
  const listeners: Listener[] = [];
  const sessions = new Set<FtpSession>();
  const ports = new PassivePorts(cfg.passive_port_range.start, cfg.passive_port_range.end);

  const startBinding = async (b: FtpdBinding, banner: string): Promise<void> => {
    const material = await loadTlsMaterial(cfg, b, ctx.runtime.configDir);
    if (b.tls_mode > 0 && !material.context()) {
      throw new Error(`ftpd binding ${b.address}:${b.port}: tls_mode ${b.tls_mode} needs a certificate`);
    }
    const implicit = b.tls_mode === 2;
    const viaProxy = b.apply_proxy_config ? proxy : undefined;
    const log = (m: string): void => ctx.logger.debug('ftpd', m);
    const admitPassive = viaProxy
      ? async (sock: net.Socket): Promise<boolean> => (await acceptProxied(sock, viaProxy, log, true)) !== undefined
      : undefined;
    const admit = async (raw: net.Socket): Promise<void> => {
      if (viaProxy && !(await acceptProxied(raw, viaProxy, log, true))) return;
      const ip = normalizeIp(raw.remoteAddress);
      try {
        // banned, not in the allow list, or rate limited: closed before the banner
        await ctx.perimeter.checkConnection(ip, 'FTP');
      } catch (e) {
        log(`connection refused from ${ip}: ${String((e as Error).message)}`);
        raw.destroy();
        return;
      }
      if (raw.destroyed) return;
      const open = (sock: net.Socket): void => {
        const session = new FtpSession({
          ctx, binding: b, tls: material, ports, banner, implicit, admitPassive,
          onClosed: (s) => sessions.delete(s),
        }, sock);
        if (sock instanceof tls.TLSSocket && !session.acceptsPeer(sock)) { sock.destroy(); return; }
        sessions.add(session);
        session.start();
      };
      // a socket that went through the PROXY header read was left paused
      if (!implicit) {
        open(raw);
        if (viaProxy) raw.resume();
        return;
      }
      if (viaProxy) raw.resume();
      // implicit TLS: the session starts once the handshake (client certificate checked) is done
      let sock: tls.TLSSocket;
      try {
        sock = await material.handshake(raw);
      } catch (e) {
        log(`implicit TLS handshake failed: ${e instanceof Error ? e.message : String(e)}`);
        raw.destroy();
        return;
      }
      // the TLS socket asks the OS for its peer: present the proxied client again
      if (raw.remoteAddress !== sock.remoteAddress) presentPeer(sock, { ip: raw.remoteAddress ?? '', port: raw.remotePort ?? 0 });
      open(sock);
    };
    const server = net.createServer((raw) => {
      raw.on('error', (e) => ctx.logger.debug('ftpd', `client socket error: ${e.message}`));
      // Replies are small writes: with Nagle the 226 after a 150 waited for the
      // client's delayed ACK, 40 ms on every transfer (strace of lftp: data closed
      // at +0 ms, 226 at +40 ms; a 1 MiB STOR session took 59 ms vs vsftpd's 17 ms).
      raw.setNoDelay(true);
      admit(raw).catch((e: Error) => {
        ctx.logger.error('ftpd', `accepting a connection: ${e.message}`);
        raw.destroy();
      });
    });
    server.on('error', (e) => ctx.logger.error('ftpd', `listener error: ${e.message}`));
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen({ port: b.port, host: b.address || undefined }, () => {
        server.removeListener('error', reject);
        resolve();
      });
    });
    listeners.push({ binding: b, tls: material, server });
    const a = server.address();
    ctx.logger.info('ftpd', `FTP server listening on ${typeof a === 'object' && a ? `${a.address}:${a.port}` : String(a)}, tls_mode ${b.tls_mode}`);
  };

  return {
    name: 'ftpd',
    async start(): Promise<void> {
      const banner = await loadBanner(ctx);
      proxy = common.proxy_protocol > 0 ? compileProxySettings(common, options.proxyHeaderTimeoutMs) : undefined;
      try {
        for (const b of cfg.bindings) if (b.port > 0) await startBinding(b, banner);
      } catch (e) {
        for (const l of listeners.splice(0)) l.server.close();
        throw e;
      }
    },
    async stop(): Promise<void> {
      await Promise.all(listeners.splice(0).map((l) => new Promise<void>((resolve) => {
        l.server.close();
        // server.close's callback waits for every client; we only stop accepting
        resolve();
      })));
      // authenticated sessions are the connection manager's to drain; the others just go
      for (const s of [...sessions]) if (!s.ops) s.close('server stopping');
    },
    async reload(): Promise<void> {
      for (const l of listeners) {
        try {
          await l.tls.reload();
        } catch (e) {
          ctx.logger.warn('ftpd', `certificate reload failed, keeping the previous one: ${String((e as Error).message)}`);
        }
      }
    },
    addresses(): { address: string; port: number }[] {
      return listeners.flatMap((l) => {
        const a = l.server.address();
        return typeof a === 'object' && a ? [{ address: a.address, port: a.port }] : [];
      });
    },
  };
}
