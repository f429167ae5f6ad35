/**
 * The data channel of one FTP session: a one-shot passive listener (PASV,
 * EPSV) or an active target (PORT, EPRT). Waiting for the client is
 * event-driven (ftp-srv polls every 50 ms). The data connection must come
 * from / go to the control connection's IP unless the binding's
 * *_connections_security says otherwise (no FTP bounce). With PROT P the
 * socket is wrapped in TLS as the server side.
 */
import * as net from 'node:net';
import * as tls from 'node:tls';
import { fsErr } from '../common/errors';
import { sameIp, type HostPort } from './addr';
import type { PassivePorts } from './ports';
import { adoptWithUserBuffer, type UserBufferSocket } from '../util/user-buffer-socket';

const CONNECT_TIMEOUT_MS = 30_000;

export interface DataChannelOptions {
  /** control connection addresses */
  localAddress: string;
  remoteAddress: string;
  ports: PassivePorts;
  /** binding.passive_connections_security === 0 */
  checkPassiveSource: boolean;
  /** local port for active connections (undefined = ephemeral) */
  activeLocalPort?: number;
  /**
   * Runs first on every passive connection (PROXY protocol: the header is read
   * and its address presented); false means the socket was refused and closed.
   */
  admitPassive?: (sock: net.Socket) => Promise<boolean>;
  onError(where: string, e: Error): void;
}

interface Passive {
  kind: 'passive';
  server: net.Server;
  socket?: net.Socket;
  waiter?: (s: net.Socket) => void;
}
interface Active { kind: 'active'; target: HostPort }

export class DataChannel {
  private mode: Passive | Active | undefined;
  private current: net.Socket | undefined;

  constructor(private readonly o: DataChannelOptions) {}

  get configured(): boolean { return this.mode !== undefined; }

  /** Opens a passive listener and returns its port. */
  async listenPassive(): Promise<number> {
    this.reset();
    const p: Passive = { kind: 'passive', server: net.createServer({ pauseOnConnect: true }) };
    p.server.maxConnections = 1;
    p.server.on('error', (e) => this.o.onError('passive listener', e));
    p.server.on('connection', (sock) => {
      sock.on('error', (e) => this.o.onError('data socket', e));
      const admit = this.o.admitPassive;
      if (!admit) { this.takePassive(p, sock); return; }
      admit(sock).then((ok) => { if (ok) this.takePassive(p, sock); }, (e: Error) => {
        this.o.onError('data socket admission', e);
        sock.destroy();
      });
    });
    this.mode = p;
    try {
      return await this.o.ports.listen(p.server, this.o.localAddress);
    } catch (e) {
      // no half-configured channel: the next transfer must get 425, not a 30 s wait
      this.reset();
      throw e;
    }
  }

  private takePassive(p: Passive, sock: net.Socket): void {
    if (p.socket || (this.o.checkPassiveSource && !sameIp(sock.remoteAddress, this.o.remoteAddress))) {
      // a second connection, or a stranger racing the client to the port
      sock.destroy();
      return;
    }
    p.socket = sock;
    p.server.close();
    p.waiter?.(sock);
  }

  setActive(target: HostPort): void {
    this.reset();
    this.mode = { kind: 'active', target };
  }

  /**
   * Waits for (passive) or makes (active) the TCP connection, then calls
   * `onConnected` (which sends the 150 reply: an FTPS client starts its TLS
   * handshake only after it), then completes TLS when `tlsHandshake` is given.
   */
  async open(tlsHandshake: ((raw: net.Socket) => Promise<tls.TLSSocket>) | undefined, onConnected: () => Promise<void>): Promise<net.Socket> {
    const mode = this.mode;
    if (!mode) throw fsErr('Generic', 'no data connection configured');
    this.mode = undefined;
    let raw: net.Socket;
    try {
      raw = mode.kind === 'passive' ? await this.acceptPassive(mode) : await this.connectActive(mode.target);
    } catch (e) {
      if (mode.kind === 'passive') mode.server.close();
      throw e;
    }
    this.current = raw;
    await onConnected();
    if (!tlsHandshake) return raw;
    const secure = await tlsHandshake(raw);
    secure.on('error', (e) => this.o.onError('data tls', e));
    if (this.current !== raw) { secure.destroy(); throw fsErr('Aborted', 'data connection aborted'); }
    this.current = secure;
    return secure;
  }

  private acceptPassive(p: Passive): Promise<net.Socket> {
    if (p.socket) return Promise.resolve(p.socket);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => { p.waiter = undefined; reject(fsErr('Generic', 'data connection timeout')); }, CONNECT_TIMEOUT_MS);
      p.waiter = (s) => { clearTimeout(timer); p.waiter = undefined; resolve(s); };
    });
  }

  private connectActive(t: HostPort): Promise<net.Socket> {
    const sock = net.connect({ host: t.host, port: t.port, localAddress: this.o.localAddress, localPort: this.o.activeLocalPort });
    // paused like an accepted passive socket: nothing is read before the transfer
    // chooses how (lendReads() needs a socket that has not started reading)
    sock.pause();
    sock.on('error', (e) => this.o.onError('active data socket', e));
    sock.setTimeout(CONNECT_TIMEOUT_MS, () => sock.destroy(new Error('active connect timeout')));
    this.current = sock;
    return waitEvent(sock, 'connect').then(() => { sock.setTimeout(0); return sock; });
  }

  /**
   * Moves the open plain data connection `sock` (from open()) onto one reused
   * read buffer (see util/user-buffer-socket.ts); undefined when it cannot be
   * (TLS, already reading), and `sock` stays usable.
   */
  lendReads(sock: net.Socket): UserBufferSocket | undefined {
    if (sock !== this.current) return undefined;
    const lent = adoptWithUserBuffer(sock);
    if (!lent) return undefined;
    lent.socket.on('error', (e) => this.o.onError('data socket', e));
    this.current = lent.socket;
    return lent;
  }

  /** Aborts whatever is running or pending (ABOR, new PASV/PORT, session end). */
  reset(): void {
    this.current?.destroy();
    this.current = undefined;
    const m = this.mode;
    this.mode = undefined;
    if (m?.kind === 'passive') {
      m.socket?.destroy();
      m.server.close();
    }
  }
}

function waitEvent(s: net.Socket, ev: 'secure' | 'connect'): Promise<void> {
  return new Promise((resolve, reject) => {
    const done = (err?: Error): void => {
      s.removeListener(ev, onOk);
      s.removeListener('error', onErr);
      s.removeListener('close', onClose);
      if (err) reject(err); else resolve();
    };
    const onOk = (): void => done();
    const onErr = (e: Error): void => done(e);
    const onClose = (): void => done(fsErr('Aborted', 'data connection closed'));
    s.once(ev, onOk);
    s.once('error', onErr);
    s.once('close', onClose);
  });
}
