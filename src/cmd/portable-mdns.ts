/**
 * Portable mode's multicast DNS advertisement (`--advertise-service`/-S,
 * `--advertise-credentials`/-C), as SFTPGo's portable mode had it until
 * 2.4 (SFTPGo 2.5 dropped the feature): one DNS-SD service per listener,
 * instance "SFTPGo portable <port>", type `_sftp-ssh._tcp` for SFTP,
 * `_ftp._tcp` for FTP and `_http._tcp` for WebDAV, TXT `version=<version>`
 * and, only with -C, `user=` and `password=` (no password with key-only
 * logins: the private key is not ours to publish). The records are sent
 * again with TTL 0 on shutdown so browsers forget the service at once.
 */
import type { EventEmitter } from 'node:events';
import os from 'node:os';
import { Bonjour, type Service } from 'bonjour-service';
import type { AppLogger } from '../logger/types';

export type AdvertisedProtocol = 'SFTP' | 'FTP' | 'WebDAV';

const SERVICE_TYPES: Record<AdvertisedProtocol, string> = { SFTP: 'sftp-ssh', FTP: 'ftp', WebDAV: 'http' };

export interface AdvertiseOptions {
  listeners: { protocol: AdvertisedProtocol; port: number }[];
  version: string;
  /** set only with --advertise-credentials */
  credentials?: { username: string; password: string };
  logger: AppLogger;
  /** bound on the wait for the first announcement of each service */
  announceTimeoutMs?: number;
}

export interface Advertisement {
  /** goodbye packets (TTL 0), then the socket is closed */
  stop(): Promise<void>;
}

const SENDER = 'mdns';

/** The TXT record: version always, the account only when asked for. */
export function advertisedTxt(version: string, credentials?: { username: string; password: string }): Record<string, string> {
  const txt: Record<string, string> = { version };
  if (credentials) {
    txt.user = credentials.username;
    if (credentials.password !== '') txt.password = credentials.password;
  }
  return txt;
}

function announced(svc: Service, timeoutMs: number): Promise<boolean> {
  return new Promise((resolve) => {
    const timer = setTimeout(() => { svc.off('up', up); resolve(false); }, timeoutMs);
    const up = (): void => { clearTimeout(timer); resolve(true); };
    svc.once('up', up);
  });
}

export async function advertise(o: AdvertiseOptions): Promise<Advertisement> {
  const log = o.logger;
  // a socket error must never take the file server down: bonjour-service throws from its
  // default error callback, and multicast-dns emits 'error' (EADDRINUSE, EACCES) on its emitter
  const bonjour = new Bonjour({}, (err: Error) => log.warn(SENDER, `multicast DNS error: ${err.message}`));
  const mdns = (bonjour as unknown as { server?: { mdns?: EventEmitter } }).server?.mdns;
  if (!mdns) throw new Error('bonjour-service internals changed: no multicast-dns emitter to attach the error handler to');
  mdns.on('error', (err: Error) => log.warn(SENDER, `multicast DNS socket error: ${err.message}`));
  mdns.on('warning', (err: Error) => log.debug(SENDER, `multicast DNS warning: ${err.message}`));

  if (o.credentials) {
    log.info(SENDER, 'advertising credentials via multicast DNS');
    if (o.credentials.password === '') log.info(SENDER, 'key based credentials cannot be advertised via multicast DNS: we do not have the private key');
  }
  const txt = advertisedTxt(o.version, o.credentials);
  const host = `${os.hostname().split('.')[0]}.local`;
  const services = o.listeners.map((l) => ({
    l,
    svc: bonjour.publish({ name: `SFTPGo portable ${l.port}`, type: SERVICE_TYPES[l.protocol], protocol: 'tcp', port: l.port, host, txt }),
  }));
  const results = await Promise.all(services.map(({ svc }) => announced(svc, o.announceTimeoutMs ?? 10_000)));
  services.forEach(({ l }, i) => {
    if (results[i]) log.info(SENDER, `${l.protocol} service advertised via multicast DNS`, { port: l.port });
    else log.warn(SENDER, `unable to advertise the ${l.protocol} service via multicast DNS (no announcement sent)`, { port: l.port });
  });
  let stopped = false;
  return {
    stop: () => new Promise<void>((resolve) => {
      if (stopped) { resolve(); return; }
      stopped = true;
      log.info(SENDER, 'unregistering the multicast DNS services');
      bonjour.unpublishAll(() => bonjour.destroy(() => resolve()));
    }),
  };
}
