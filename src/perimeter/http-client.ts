/**
 * The client address of an HTTP request (WebDAV and httpd bindings):
 * - proxy_mode 1: the PROXY protocol header read by the listener (listenProxied);
 * - proxy_mode 0: client_ip_proxy_header, trusted only when the connecting
 *   address is in the binding's proxy_allowed; client_ip_header_depth counts
 *   from the right of a comma list ("a, b, c" depth 0 is c), as SFTPGo.
 * And the listener side of proxy_mode 1: a plain TCP listener that reads the
 * header, then hands the socket to the HTTP(S) server.
 */
import * as net from 'node:net';
import type { IncomingHttpHeaders, Server as HttpServer } from 'node:http';
import { compileNetList, ipBytes, normalizeIp } from '../util/ipnet';
import { acceptProxied, ProxiedPeers, type ProxyProtocolSettings } from './proxy-accept';

export interface HttpProxyBinding {
  proxy_mode: number;
  proxy_allowed: string[];
  client_ip_proxy_header: string;
  client_ip_header_depth: number;
}

export interface ClientIpResolver {
  (socket: { remoteAddress?: string; remotePort?: number }, headers: IncomingHttpHeaders): string;
  /** the peers the PROXY listener registered (proxy_mode 1) */
  readonly peers: ProxiedPeers;
}

/** Throws naming the binding setting when proxy_allowed has a bad entry or proxy_mode is unknown. */
export function clientIpResolver(b: HttpProxyBinding, where: string): ClientIpResolver {
  if (b.proxy_mode !== 0 && b.proxy_mode !== 1) throw new Error(`${where}: invalid proxy_mode ${b.proxy_mode}`);
  const trusted = compileNetList(b.proxy_allowed ?? [], `${where}.proxy_allowed`);
  const header = (b.client_ip_proxy_header ?? '').trim().toLowerCase();
  const depth = Math.max(0, b.client_ip_header_depth ?? 0);
  const peers = new ProxiedPeers();
  const resolve = (socket: { remoteAddress?: string; remotePort?: number }, headers: IncomingHttpHeaders): string => {
    const remote = normalizeIp(socket.remoteAddress ?? '');
    if (b.proxy_mode === 1) return peers.lookup(remote, socket.remotePort)?.ip ?? remote;
    if (header === '' || !trusted(remote)) return remote;
    const raw = headers[header];
    const value = Array.isArray(raw) ? raw.join(',') : raw;
    if (!value) return remote;
    const parts = value.split(',').map((p) => p.trim()).filter((p) => p !== '');
    const candidate = normalizeIp(parts[parts.length - 1 - depth] ?? '');
    return ipBytes(candidate) ? candidate : remote;
  };
  return Object.assign(resolve, { peers });
}

/**
 * proxy_mode 1: listens on port/host itself; each connection gets its PROXY
 * header read (common.proxy_protocol policy), the peer registered in
 * `peers`, then goes to `server` as if that server had accepted it (for an
 * HTTPS server the TLS handshake starts only then).
 */
export function listenProxied(server: HttpServer, port: number, host: string | undefined, settings: ProxyProtocolSettings,
  peers: ProxiedPeers, log: (msg: string) => void): Promise<net.Server> {
  const listener = net.createServer((sock) => {
    sock.on('error', () => undefined);
    const realAddress = sock.remoteAddress;
    const realPort = sock.remotePort;
    acceptProxied(sock, settings, log).then((r) => {
      if (!r) return;
      if (r.peer) peers.register(sock, realAddress, realPort, r.peer);
      server.emit('connection', sock);
      sock.resume();
    }, (e: Error) => {
      log(`PROXY accept error: ${e.message}`);
      sock.destroy();
    });
  });
  return new Promise((resolve, reject) => {
    listener.once('error', reject);
    listener.listen({ port, host }, () => {
      listener.off('error', reject);
      listener.on('error', (e) => log(`listener error: ${e.message}`));
      resolve(listener);
    });
  });
}
