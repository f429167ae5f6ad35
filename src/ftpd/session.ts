/**
 * One FTP control connection: line framing, the command queue, replies, the
 * TLS upgrade (AUTH TLS) and the session's protocol state (cwd, REST, RNFR,
 * PROT). Commands run one at a time; ABOR, QUIT and STAT are handled out of
 * band so they work during a transfer (ftp-srv pauses the control socket
 * while transferring, so ABOR cannot work there).
 */
import { reportNoAuth } from '../common/login';
import type * as net from 'node:net';
import * as tls from 'node:tls';
import type { X509Certificate } from 'node:crypto';
import type { FileOps } from '../common/types';
import type { ServerContext } from '../common/context';
import type { FtpdBinding } from '../config/types';
import { fsErr } from '../common/errors';
import { DataChannel } from './data';
import { normalizeIp } from './addr';
import type { PassivePorts } from './ports';
import type { TlsMaterial } from './tls';
import { errorReply } from './replies';
import { COMMANDS } from './commands/index';

const MAX_LINE = 8192;
const MAX_QUEUED = 64;
/** unauthenticated clients are dropped after this long (they are invisible to the connection manager) */
const LOGIN_TIMEOUT_MS = 120_000;
const OUT_OF_BAND = new Set(['ABOR', 'QUIT', 'STAT']);

export interface SessionDeps {
  ctx: ServerContext;
  binding: FtpdBinding;
  tls: TlsMaterial;
  ports: PassivePorts;
  banner: string;
  /** set when the listener is implicit TLS */
  implicit: boolean;
  /** PROXY protocol admission of passive data connections (binding with apply_proxy_config) */
  admitPassive?: (sock: net.Socket) => Promise<boolean>;
  onClosed(s: FtpSession): void;
}

export interface RunningTransfer { abort(): void; done: Promise<void> }

export class FtpSession {
  readonly remoteIp: string;
  readonly localIp: string;
  readonly remotePort: number;
  readonly localPort: number;
  socket: net.Socket;
  secure: boolean;
  /** PROT P: data channel protected */
  protP = false;
  /** a PASS was sent (a login attempt reached the login sequence) */
  loginTried = false;
  /** USER accepted a client certificate that PASS must complete (TLSCertificate+password) */
  pendingCert: X509Certificate | undefined;
  /** ftpserverlib: with implicit TLS the data connections are always TLS, whatever PROT says */
  get dataProtected(): boolean { return this.protP || this.deps.implicit; }
  pendingUser: string | undefined;
  ops: FileOps | undefined;
  cwd = '/';
  restOffset = 0;
  renameFrom: string | undefined;
  clientVersion = '';
  hashAlgo: 'sha256' | 'sha512' | 'sha1' | 'md5' = 'sha256';
  transfer: RunningTransfer | undefined;
  readonly data: DataChannel;
  private buf: Buffer = Buffer.alloc(0);
  private queue: string[] = [];
  private busy = false;
  private closed = false;
  private release: (() => void) | undefined;
  /** when the banner was sent (the post-connect hook, if any, accepted): from then on the post-disconnect hook is owed */
  private admittedAt: number | undefined;

  /** the post-disconnect hook's duration starts at the connection, as SFTPGo's, not at the login */
  get connectedAt(): number | undefined { return this.admittedAt; }

  constructor(readonly deps: SessionDeps, socket: net.Socket) {
    this.socket = socket;
    this.secure = deps.implicit;
    this.remoteIp = normalizeIp(socket.remoteAddress);
    this.localIp = normalizeIp(socket.localAddress);
    this.remotePort = socket.remotePort ?? 0;
    this.localPort = socket.localPort ?? 0;
    this.data = new DataChannel({
      localAddress: socket.localAddress ?? '0.0.0.0',
      remoteAddress: this.remoteIp,
      ports: deps.ports,
      checkPassiveSource: deps.binding.passive_connections_security === 0,
      activeLocalPort: deps.ctx.config.ftpd.active_transfers_port_non_20 ? undefined : Math.max(1, this.localPort - 1),
      admitPassive: deps.admitPassive,
      onError: (where, e) => this.debug(`${where} error: ${e.message}`),
    });
    this.attach(socket);
  }

  get ctx(): ServerContext { return this.deps.ctx; }
  get connectionId(): string { return this.ops?.id ?? ''; }

  start(): void {
    try {
      this.release = this.ctx.connections.acceptClient(this.remoteIp);
    } catch (e) {
      this.ctx.logger.debug('ftpd', `connection refused from ${this.remoteIp}: ${String((e as Error).message)}`);
      void this.reply(421, errorReply(e).message).finally(() => this.close('refused'));
      return;
    }
    this.socket.setTimeout(LOGIN_TIMEOUT_MS, () => { if (!this.ops) this.close('login timeout'); });
    // SFTPGo runs the post-connect hook before the banner
    if (!this.ctx.hooks?.hasPostConnect) {
      this.admittedAt = Date.now();
      void this.reply(220, this.deps.banner);
      return;
    }
    void this.ctx.hooks.postConnect(this.remoteIp, 'FTP').then((ok) => {
      if (ok && !this.closed) this.admittedAt = Date.now();
      if (ok) return this.reply(220, this.deps.banner);
      return this.reply(421, 'Access denied').finally(() => this.close('refused by the post-connect hook'));
    });
  }

  /** The session's FileOps; commands flagged as needing auth only run when it exists. */
  fs(): FileOps {
    if (!this.ops) throw fsErr('PermissionDenied', 'not logged in');
    return this.ops;
  }

  resolve(p: string): string {
    return this.fs().cleanPath(p === '' ? '.' : p, this.cwd);
  }

  reply(code: number, message: string | string[]): Promise<void> {
    const lines = (Array.isArray(message) ? message : [message]).map((l) => l.replace(/[\r\n]+/g, ' '));
    let text: string;
    if (lines.length <= 1) text = `${code} ${lines[0] ?? ''}\r\n`;
    else text = `${code}-${lines[0]}\r\n${lines.slice(1, -1).map((l) => ` ${l}\r\n`).join('')}${code} ${lines[lines.length - 1]}\r\n`;
    return this.write(text);
  }

  write(text: string): Promise<void> {
    if (this.closed || !this.socket.writable) return Promise.resolve();
    return new Promise((resolve) => { this.socket.write(text, 'utf8', () => resolve()); });
  }

  debug(msg: string): void {
    if (this.deps.binding.debug || this.ctx.logger.isDebugEnabled()) {
      this.ctx.logger.debug('ftpd', msg, { connection_id: this.connectionId || undefined, remote_address: this.remoteIp });
    }
  }

  /**
   * The client certificate of the TLS control connection, only when the TLS
   * layer verified it against the configured CAs (and CRLs).
   */
  clientCertificate(): X509Certificate | undefined {
    const sock = this.socket;
    if (!(sock instanceof tls.TLSSocket) || !sock.authorized) return undefined;
    return sock.getPeerX509Certificate();
  }

  /**
   * client_auth_type 2 ("verify if given"): the handshake lets an unverifiable
   * certificate through (Node cannot express Go's VerifyClientCertIfGiven), so
   * a session that presented one is refused here, as SFTPGo's handshake fails.
   * Returns false (and logs) for such a socket.
   */
  acceptsPeer(sock: tls.TLSSocket): boolean {
    if (sock.authorized || sock.getPeerX509Certificate() === undefined) return true;
    this.ctx.logger.connectionFailed({ clientIp: this.remoteIp, username: '', loginType: 'TLSCertificate', protocol: 'FTP', error: `invalid client certificate: ${String(sock.authorizationError)}` });
    return false;
  }

  /** AUTH TLS: after the 234 reply, the same TCP socket speaks TLS (the session closes if the handshake fails). */
  async upgradeTls(): Promise<void> {
    const raw = this.socket;
    // the plain socket stops being ours: the TLS layer reads it from now on
    raw.removeAllListeners('data');
    raw.removeAllListeners('close');
    raw.once('close', () => this.close('client disconnected'));
    let s: tls.TLSSocket;
    try {
      s = await this.deps.tls.handshake(raw);
    } catch (e) {
      this.debug(`TLS handshake failed: ${e instanceof Error ? e.message : String(e)}`);
      this.close('TLS handshake failed');
      return;
    }
    if (this.closed) { s.destroy(); return; }
    if (!this.acceptsPeer(s)) { s.destroy(); this.close('invalid client certificate'); return; }
    this.socket = s;
    this.secure = true;
    this.attach(s);
  }

  close(reason: string): void {
    if (this.closed) return;
    this.closed = true;
    this.debug(`closing session: ${reason}`);
    this.transfer?.abort();
    this.data.reset();
    this.socket.destroy();
    const ops = this.ops;
    if (ops) {
      this.ctx.connections.remove(ops.id).catch((e: unknown) => this.debug(`remove connection: ${String(e)}`));
    } else {
      if (!this.loginTried && this.release) {
        // admitted, then gone without sending a password: the defender's no_auth event
        reportNoAuth(this.ctx, 'FTP', this.remoteIp, `no authentication tried: ${reason}`);
      }
      // SFTPGo registers every accepted FTP connection before the login, so its post-disconnect
      // hook also runs for one that never logged in (empty username); a logged-in one gets it
      // when its registration is removed (hooks/connection-tracker.ts)
      if (this.admittedAt !== undefined) {
        this.ctx.hooks?.postDisconnect({ ip: this.remoteIp, protocol: 'FTP', username: '', connectionId: '', durationMs: Date.now() - this.admittedAt });
      }
    }
    this.release?.();
    this.release = undefined;
    this.deps.onClosed(this);
  }

  private attach(s: net.Socket): void {
    s.on('error', (e) => this.debug(`control socket error: ${e.message}`));
    s.on('close', () => this.close('client disconnected'));
    s.on('data', (chunk: Buffer) => this.onData(chunk));
  }

  private onData(chunk: Buffer): void {
    // framing on bytes: a UTF-8 character or a line may be split across TCP reads
    this.buf = this.buf.length ? Buffer.concat([this.buf, chunk]) : chunk;
    let nl: number;
    while ((nl = this.buf.indexOf(0x0a)) >= 0) {
      const line = stripTelnet(this.buf.subarray(0, nl)).toString('utf8').replace(/\r$/, '');
      this.buf = this.buf.subarray(nl + 1);
      if (line.trim() !== '') this.enqueue(line);
    }
    if (this.buf.length > MAX_LINE) {
      this.buf = Buffer.alloc(0);
      void this.reply(500, 'Command line too long');
    }
  }

  private enqueue(line: string): void {
    const verb = (line.split(' ', 1)[0] ?? '').toUpperCase();
    if (this.transfer && OUT_OF_BAND.has(verb)) {
      void this.run(line);
      return;
    }
    if (this.queue.length >= MAX_QUEUED) {
      this.close('too many queued commands');
      return;
    }
    this.queue.push(line);
    void this.pump();
  }

  private async pump(): Promise<void> {
    if (this.busy) return;
    this.busy = true;
    try {
      let line: string | undefined;
      while (!this.closed && (line = this.queue.shift()) !== undefined) await this.run(line);
    } finally {
      this.busy = false;
    }
  }

  private async run(line: string): Promise<void> {
    const sp = line.indexOf(' ');
    const verb = (sp < 0 ? line : line.slice(0, sp)).toUpperCase();
    const arg = sp < 0 ? '' : line.slice(sp + 1);
    this.debug(`command ${verb}${verb === 'PASS' ? ' ********' : ''}`);
    const cmd = COMMANDS.get(verb);
    try {
      if (!cmd) return await this.reply(502, `Command not implemented: ${verb.slice(0, 16)}`);
      if (cmd.auth && !this.ops) return await this.reply(530, 'Please login with USER and PASS');
      if (this.ops) {
        this.ops.touch();
        this.ops.setCommand(verb);
      }
      await cmd.run(this, arg);
      // REST applies to the next command only, RNFR to the next RNTO only
      if (verb !== 'REST') this.restOffset = 0;
      if (verb !== 'RNFR') this.renameFrom = undefined;
    } catch (e) {
      // a handler bug must never take the process down: answer and keep going
      this.ctx.logger.warn('ftpd', `command ${verb} failed: ${String((e as Error).message)}`, { connection_id: this.connectionId || undefined });
      await this.reply(451, 'Requested action aborted: local error in processing');
    }
  }
}

/** Drops telnet IAC sequences (clients send IAC IP IAC DM before ABOR). */
function stripTelnet(line: Buffer): Buffer {
  if (!line.includes(0xff)) return line;
  const out: number[] = [];
  for (let i = 0; i < line.length; i++) {
    const b = line[i]!;
    if (b === 0xff) { i++; continue; }
    out.push(b);
  }
  return Buffer.from(out);
}
