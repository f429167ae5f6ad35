/**
 * PROXY protocol on accepted sockets (common.proxy_protocol, proxy_allowed,
 * proxy_skipped), with SFTPGo's policy per connecting address:
 * - proxy_skipped: the header is not read at all (the bytes reach the protocol);
 * - mode 1: from proxy_allowed the header's address is used, from anyone else a
 *   header is read and dropped (the socket's address stays); no header is fine;
 * - mode 2: from proxy_allowed a header is required, anyone else is refused.
 * A malformed header, or one not complete within the header timeout, closes
 * the connection; the bytes held are bounded by the parser's maximum.
 */
import type * as net from 'node:net';
import type { CommonConfig } from '../config/types';
import { compileNetList, normalizeIp } from '../util/ipnet';
import { parseProxyHeader, MAX_V2_PAYLOAD, type ProxyPeer } from './proxy-header';

/** SFTPGo (go-proxyproto ReadHeaderTimeout) waits 10 s for the header. */
export const DEFAULT_HEADER_TIMEOUT_MS = 10_000;
const MAX_HEADER_BYTES = 16 + MAX_V2_PAYLOAD;

export type ProxyPolicy = 'skip' | 'use' | 'ignore' | 'require' | 'reject';

export interface ProxyProtocolSettings {
  mode: number;
  allowed: (ip: string) => boolean;
  skipped: (ip: string) => boolean;
  headerTimeoutMs: number;
}

/** Throws naming the bad proxy_allowed / proxy_skipped entry (start-up refuses it, as SFTPGo). */
export function compileProxySettings(common: Pick<CommonConfig, 'proxy_protocol' | 'proxy_allowed' | 'proxy_skipped'>, headerTimeoutMs = DEFAULT_HEADER_TIMEOUT_MS): ProxyProtocolSettings {
  if (![0, 1, 2].includes(common.proxy_protocol)) throw new Error(`common.proxy_protocol: invalid value ${common.proxy_protocol}, expected 0, 1 or 2`);
  return {
    mode: common.proxy_protocol,
    allowed: compileNetList(common.proxy_allowed, 'common.proxy_allowed'),
    skipped: compileNetList(common.proxy_skipped, 'common.proxy_skipped'),
    headerTimeoutMs,
  };
}

/** proxy_mode 1 (WebDAV/HTTP) uses common.proxy_protocol: without it the binding cannot work (SFTPGo refuses to start too). */
export function httpProxySettings(common: Pick<CommonConfig, 'proxy_protocol' | 'proxy_allowed' | 'proxy_skipped'>, where: string): ProxyProtocolSettings {
  if (common.proxy_protocol === 0) throw new Error(`${where}: proxy_mode 1 needs common.proxy_protocol 1 or 2`);
  return compileProxySettings(common);
}

export function proxyPolicy(s: ProxyProtocolSettings, upstreamIp: string): ProxyPolicy {
  if (s.mode === 0 || s.skipped(upstreamIp)) return 'skip';
  if (s.allowed(upstreamIp)) return s.mode === 2 ? 'require' : 'use';
  return s.mode === 2 ? 'reject' : 'ignore';
}

export type ProxyOutcome = { ok: true; peer: ProxyPeer | undefined } | { ok: false; reason: string };

/**
 * Reads the header (when the policy says so) and leaves the socket paused with
 * the bytes after the header unshifted: the protocol then reads as if the
 * header had never been there. `peer` is the client the proxy speaks for,
 * undefined when the socket's own address stands.
 */
export function readProxyHeader(sock: net.Socket, policy: ProxyPolicy, timeoutMs: number): Promise<ProxyOutcome> {
  if (policy === 'skip') return Promise.resolve({ ok: true, peer: undefined });
  if (policy === 'reject') return Promise.resolve({ ok: false, reason: 'PROXY header source not allowed' });
  return new Promise((resolve) => {
    let buf: Buffer = Buffer.alloc(0);
    let settled = false;
    const finish = (outcome: ProxyOutcome, rest?: Buffer): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      sock.off('data', onData);
      sock.off('end', onEnd);
      sock.off('close', onEnd);
      sock.pause();
      if (outcome.ok && rest && rest.length > 0) sock.unshift(rest);
      resolve(outcome);
    };
    const onData = (chunk: Buffer): void => {
      buf = buf.length === 0 ? chunk : Buffer.concat([buf, chunk]);
      const r = parseProxyHeader(buf);
      switch (r.kind) {
        case 'incomplete':
          if (buf.length > MAX_HEADER_BYTES) finish({ ok: false, reason: 'PROXY header too long' });
          return;
        case 'absent':
          if (policy === 'require') finish({ ok: false, reason: 'PROXY header required and not sent' });
          else finish({ ok: true, peer: undefined }, buf);
          return;
        case 'invalid':
          finish({ ok: false, reason: `invalid PROXY header: ${r.reason}` });
          return;
        case 'header':
          finish({ ok: true, peer: policy === 'ignore' ? undefined : r.peer }, buf.subarray(r.length));
      }
    };
    const onEnd = (): void => finish({ ok: false, reason: 'connection closed before the PROXY header' });
    const timer = setTimeout(() => {
      // nothing received: a client that waits for the server to speak first (FTP) without a header
      if (buf.length === 0 && policy !== 'require') finish({ ok: true, peer: undefined });
      else finish({ ok: false, reason: 'PROXY header not received in time' });
    }, timeoutMs);
    sock.on('data', onData);
    sock.once('end', onEnd);
    sock.once('close', onEnd);
    // a socket accepted with pauseOnConnect (FTP passive data) stays paused despite the listener
    sock.resume();
  });
}

/**
 * Makes the socket report the proxied client as its peer, so every layer that
 * reads socket.remoteAddress (logs, connection list, IP filters, hooks,
 * metrics) sees the client, not the proxy.
 */
export function presentPeer(sock: net.Socket, peer: ProxyPeer): void {
  Object.defineProperty(sock, 'remoteAddress', { value: peer.ip, configurable: true });
  Object.defineProperty(sock, 'remotePort', { value: peer.port, configurable: true });
  Object.defineProperty(sock, 'remoteFamily', { value: peer.ip.includes(':') ? 'IPv6' : 'IPv4', configurable: true });
}

/**
 * For listeners whose protocol layer wraps the socket in a new object (TLS):
 * the proxied peer by the real (proxy side) address and port of the socket.
 */
export class ProxiedPeers {
  private readonly peers = new Map<string, ProxyPeer>();

  static keyOf(address: string | undefined, port: number | undefined): string {
    return `${normalizeIp(address ?? '')}|${port ?? 0}`;
  }

  /** Registers until the socket closes. */
  register(sock: net.Socket, realAddress: string | undefined, realPort: number | undefined, peer: ProxyPeer): void {
    const k = ProxiedPeers.keyOf(realAddress, realPort);
    this.peers.set(k, peer);
    sock.once('close', () => { if (this.peers.get(k) === peer) this.peers.delete(k); });
  }

  lookup(address: string | undefined, port: number | undefined): ProxyPeer | undefined {
    return this.peers.get(ProxiedPeers.keyOf(address, port));
  }

  get size(): number { return this.peers.size; }
}

/**
 * The whole accept step: policy for the socket's address, header read, peer
 * presented (serverSpeaksFirst: see below). Resolves undefined (socket destroyed, reason logged by `log`) when the
 * connection must be closed.
 */
export async function acceptProxied(sock: net.Socket, s: ProxyProtocolSettings, log: (msg: string) => void,
  serverSpeaksFirst = false): Promise<{ peer: ProxyPeer | undefined } | undefined> {
  const upstream = normalizeIp(sock.remoteAddress ?? '');
  let policy = proxyPolicy(s, upstream);
  // FTP clients wait for the banner (and a download's data connection stays silent): waiting for
  // a header that would be dropped anyway would stall every direct client for the header timeout.
  // A trusted proxy sends its header at once, so 'use' still waits.
  if (serverSpeaksFirst && policy === 'ignore') policy = 'skip';
  const outcome = await readProxyHeader(sock, policy, s.headerTimeoutMs);
  if (!outcome.ok) {
    log(`connection from ${upstream} closed: ${outcome.reason}`);
    sock.destroy();
    return undefined;
  }
  if (outcome.peer) presentPeer(sock, outcome.peer);
  return { peer: outcome.peer };
}
