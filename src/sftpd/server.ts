/**
 * The SSH/SFTP service: one net.Server per `sftpd.bindings[]` entry feeding a
 * single ssh2 Server through injectSocket(), so each raw socket is admitted by
 * the connection manager (max_total_connections / per host) and gets
 * TCP_NODELAY (Node leaves Nagle on; small SSH packets stall without it).
 */
import { randomBytes } from 'node:crypto';
import { promises as fsp } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { Server } from 'ssh2';
import type { ClientInfo, Connection } from 'ssh2';
import type { Service, ServerContext } from '../common/context';
import { nativeCryptoAvailable, resolveAlgorithms } from './algorithms';
import { paddingPoolState } from './ssh2-padding';
import { packetSlabState } from './ssh2-packet-slab';
import { attachAuthentication } from './auth';
import { reportNoAuth } from '../common/login';
import { hostKeyAllowed, loadHostKeys } from './hostkeys';
import { attachSessions } from './session';
import type { ClientSessions } from './session';
import { enabledSshCommands } from './sshcmd';
import { adoptWithSlabReads } from '../util/user-buffer-socket';
import { adoptForSsh, lentReadsState, type SshLentReads } from './ssh2-lent-reads';
import { acceptProxied, compileProxySettings, type ProxyProtocolSettings } from '../perimeter/proxy-accept';

const SENDER = 'sftpd';
/** Unauthenticated clients are dropped after this long (SFTPGo/OpenSSH LoginGraceTime is 2 minutes). */
const LOGIN_GRACE_MS = 120_000;

export interface SftpServiceOptions {
  /**
   * Listen on an ephemeral port for bindings with port 0 (tests). By default a
   * binding with port 0 is disabled, as in SFTPGo.
   */
  ephemeralPorts?: boolean;
  /** how long a PROXY protocol header may take (tests); SFTPGo's 10 s by default */
  proxyHeaderTimeoutMs?: number;
}

/** "::ffff:127.0.0.1" → "127.0.0.1": IPv4 clients on a dual-stack socket are logged and limited as IPv4. */
export function normalizeIp(ip: string | undefined): string {
  if (!ip) return '';
  return ip.startsWith('::ffff:') && ip.includes('.') ? ip.slice(7) : ip;
}

function hostPort(address: string | undefined, port: number | undefined): string {
  const a = normalizeIp(address);
  return a.includes(':') ? `[${a}]:${port ?? 0}` : `${a}:${port ?? 0}`;
}

export function serverIdent(version: string, serverVersion: string): string {
  return serverVersion === 'short' ? 'SFTPGo' : `SFTPGo_${version}`;
}

async function readBanner(ctx: ServerContext): Promise<string | undefined> {
  const file = ctx.config.sftpd.login_banner_file;
  if (!file) return undefined;
  const p = path.isAbsolute(file) ? file : path.join(ctx.runtime.configDir, file);
  try {
    return await fsp.readFile(p, 'utf8');
  } catch (e) {
    ctx.logger.warn(SENDER, `unable to read login banner file "${p}": ${(e as Error).message}`);
    return undefined;
  }
}

export function createSftpService(ctx: ServerContext, options: SftpServiceOptions = {}): Service {
  const listeners: net.Server[] = [];
  const clients = new Map<Connection, { sessions?: ClientSessions }>();
  /**
   * what ssh2's connection event cannot tell, per socket, keyed by the peer "ip|port" it reports: the
   * local address, and the reads lent to ssh2 once the client authenticates (ssh2-lent-reads.ts)
   */
  const acceptedSockets = new Map<string, { localAddr: string; lender?: SshLentReads }>();
  let ssh: Server | undefined;
  let stopping = false;
  let proxy: ProxyProtocolSettings | undefined;

  const onSocket = (accepted: net.Socket, viaProxy: boolean): void => {
    accepted.on('error', () => undefined); // ssh2 adds its own handler; this covers the time before injection
    // reads into one reused buffer (ssh2-lent-reads.ts), else into slabs instead of a fresh
    // 64 KiB buffer V8 then copies (util/user-buffer-socket.ts); a socket that may carry a
    // PROXY header is read before ssh2 gets it, so it keeps the stream path
    const lender = viaProxy ? undefined : adoptForSsh(accepted);
    const sock = viaProxy ? accepted : lender?.socket ?? adoptWithSlabReads(accepted) ?? accepted;
    sock.on('error', () => undefined);
    void admit(sock, viaProxy, lender).catch((e: unknown) => {
      ctx.logger.error(SENDER, `accepting a connection: ${(e as Error).message}`);
      sock.destroy();
    });
  };

  const admit = async (sock: net.Socket, viaProxy: boolean, lender?: SshLentReads): Promise<void> => {
    if (viaProxy && proxy && !(await acceptProxied(sock, proxy, (m) => ctx.logger.debug(SENDER, m)))) return;
    const ip = normalizeIp(sock.remoteAddress);
    try {
      // banned, not in the allow list, or rate limited: refused before the SSH handshake
      await ctx.perimeter.checkConnection(ip, 'SSH');
    } catch (e) {
      ctx.logger.debug(SENDER, `connection from ${ip} refused: ${(e as Error).message}`);
      sock.destroy();
      return;
    }
    if (stopping || !ssh || sock.destroyed) { sock.destroy(); return; }
    let release: () => void;
    try {
      release = ctx.connections.acceptClient(ip);
    } catch (e) {
      ctx.logger.debug(SENDER, `connection from ${ip} refused: ${(e as Error).message}`);
      sock.destroy();
      return;
    }
    const key = `${sock.remoteAddress}|${sock.remotePort}`;
    acceptedSockets.set(key, { localAddr: hostPort(sock.localAddress, sock.localPort), lender });
    sock.once('close', () => { acceptedSockets.delete(key); release(); });
    const admit = (): void => {
      if (stopping || !ssh || sock.destroyed) { sock.destroy(); return; }
      sock.setNoDelay(true);
      corkPerTick(sock);
      ssh.injectSocket(sock);
    };
    // SFTPGo runs the post-connect hook before the SSH handshake; the socket stays paused meanwhile
    if (ctx.hooks?.hasPostConnect) {
      void ctx.hooks.postConnect(ip, 'SSH').then((ok) => (ok ? admit() : sock.destroy()));
    } else {
      admit();
    }
  };

  const onClient = (client: Connection, info: ClientInfo, publicKeyAlgos: string[], sshCommands: Set<string>): void => {
    const connectionId = randomBytes(8).toString('hex');
    const ip = normalizeIp(info.ip);
    const remoteAddr = hostPort(info.ip, info.port);
    const { localAddr = '', lender } = acceptedSockets.get(`${info.ip}|${info.port}`) ?? {};
    const clientVersion = info.header.identRaw;
    const entry: { sessions?: ClientSessions } = {};
    clients.set(client, entry);
    // ssh2 tags key exchange failures (no common algorithm) with level "handshake"
    let handshakeFailure: string | undefined;
    client.on('error', (e: Error & { level?: string }) => {
      if (e.level === 'handshake' && !auth.tried) handshakeFailure = e.message;
      ctx.logger.debug(SENDER, `client ${remoteAddr} error: ${e.message}`, { connection_id: connectionId });
    });
    const grace = setTimeout(() => {
      ctx.logger.info(SENDER, `client ${remoteAddr} did not authenticate in time, disconnecting`, { connection_id: connectionId });
      client.end();
    }, LOGIN_GRACE_MS);
    const auth = attachAuthentication({
      ctx, client, ip, publicKeyAlgos, connectionId, clientVersion,
      // the login sequence has logged the login and updated last_login
      onSuccess: ({ user }) => {
        clearTimeout(grace);
        // reads are lent only from here: handshake and auth packets always come from copies
        if (lender && !lender.lendTo(client)) ctx.logger.debug(SENDER, 'ssh2 internals not as expected: reads stay copied');
        entry.sessions = attachSessions({ ctx, client, user, connectionId, remoteAddr, localAddr, clientVersion, sshCommands });
      },
    });
    client.once('close', () => {
      clearTimeout(grace);
      clients.delete(client);
      if (!auth.tried && !auth.authenticated) {
        reportNoAuth(ctx, 'SSH', ip, handshakeFailure ?? 'no authentication method tried', handshakeFailure !== undefined);
      }
    });
  };

  const listen = (srv: net.Server, port: number, address: string): Promise<void> =>
    new Promise((resolve, reject) => {
      const onError = (e: Error): void => reject(new Error(`sftpd: unable to listen on ${address || '*'}:${port}: ${e.message}`));
      srv.once('error', onError);
      srv.listen({ port, host: address === '' ? undefined : address }, () => {
        srv.off('error', onError);
        srv.on('error', (e: Error) => ctx.logger.error(SENDER, `listener error: ${e.message}`));
        resolve();
      });
    });

  return {
    name: 'sftpd',
    async start(): Promise<void> {
      const cfg = ctx.config.sftpd;
      const common = ctx.config.common;
      proxy = common.proxy_protocol > 0 ? compileProxySettings(common, options.proxyHeaderTimeoutMs) : undefined;
      const algos = resolveAlgorithms(cfg);
      const keys = (await loadHostKeys(ctx.runtime.configDir, cfg.host_keys ?? []))
        .filter((k) => {
          const ok = hostKeyAllowed(k.type, algos.hostKey);
          if (!ok) ctx.logger.warn(SENDER, `host key "${k.path}" (${k.type}) skipped: its algorithm is not in host_key_algorithms`);
          return ok;
        });
      if (keys.length === 0) throw new Error('sftpd: no usable host key');
      for (const k of keys) {
        ctx.logger.info(SENDER, `host key ${k.generated ? 'generated' : 'loaded'}: "${k.path}", type ${k.type}, fingerprint ${k.fingerprint}`);
      }
      const { enabled: sshCommands, unknown } = enabledSshCommands(cfg.enabled_ssh_commands ?? []);
      if (unknown.length > 0) ctx.logger.warn(SENDER, `unsupported SSH commands ignored: ${unknown.join(', ')}`);
      ctx.logger.info(SENDER, `ssh2 native crypto binding "${nativeCryptoAvailable ? 'available' : 'unavailable'}"`);
      ctx.logger.info(SENDER, `ssh2 packet padding pool "${paddingPoolState}", packet slab "${packetSlabState}", lent reads "${lentReadsState}"`);
      const banner = await readBanner(ctx);
      const server = new Server({
        hostKeys: keys.map((k) => k.privateKey),
        algorithms: algos.ssh2,
        ident: serverIdent(ctx.version.version, ctx.config.common.server_version),
        ...(banner ? { banner } : {}),
      });
      server.on('error', (e: Error) => ctx.logger.error(SENDER, `ssh server error: ${e.message}`));
      server.on('connection', (client: Connection, info: ClientInfo) => onClient(client, info, algos.publicKey, sshCommands));
      ssh = server;
      stopping = false;
      try {
        for (const b of cfg.bindings) {
          if (b.port === 0 && !options.ephemeralPorts) continue;
          const viaProxy = proxy !== undefined && b.apply_proxy_config;
          // paused on accept: a socket that already started reading cannot be adopted (canAdopt), and
          // without this none was (the slab/lent reads never applied); ssh2 resumes after injectSocket()
          const srv = net.createServer({ noDelay: true, pauseOnConnect: !viaProxy }, (sock) => onSocket(sock, viaProxy));
          await listen(srv, b.port, b.address);
          listeners.push(srv);
          const a = srv.address() as net.AddressInfo;
          ctx.logger.info(SENDER, `SFTP server listening on ${hostPort(a.address, a.port)}`);
        }
      } catch (e) {
        for (const l of listeners.splice(0)) l.close();
        throw e;
      }
      if (listeners.length === 0) ctx.logger.info(SENDER, 'no SFTP binding enabled');
    },
    async stop(): Promise<void> {
      stopping = true;
      for (const l of listeners.splice(0)) l.close();
      // sessions are drained by the connection manager; clients without one are ours to drop
      for (const [client, entry] of clients) {
        if (!entry.sessions || entry.sessions.active === 0) client.end();
      }
    },
    addresses(): { address: string; port: number }[] {
      return listeners.map((l) => l.address()).filter((a): a is net.AddressInfo => typeof a === 'object' && a !== null)
        .map((a) => ({ address: a.address, port: a.port }));
    },
  };
}

/**
 * ssh2 writes every SSH packet with its own socket.write: a 255 KiB SFTP DATA
 * reply leaves as eight encrypted 32 KiB packets, eight syscalls. Corking the
 * socket for the rest of the tick turns them into one writev. Measured with
 * `BENCH_ONLY=sftp BENCH_CIPHER=aes BENCH_SIZE_MB=512 npm run bench`, two runs
 * each: download ratio to OpenSSH 1.02/1.05 without, 1.25/1.19 with.
 */
function corkPerTick(sock: net.Socket): void {
  const write = sock.write.bind(sock) as (...args: unknown[]) => boolean;
  let corked = false;
  const uncork = (): void => { corked = false; sock.uncork(); };
  sock.write = ((...args: unknown[]): boolean => {
    if (!corked) {
      corked = true;
      sock.cork();
      process.nextTick(uncork);
    }
    return write(...args);
  }) as typeof sock.write;
}
