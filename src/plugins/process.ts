/**
 * One go-plugin process: checksum, start without a shell, the handshake line
 * (bounded in time and size), the gRPC connection (unix socket or TCP, mTLS
 * with AutoMTLS), the health check, hclog stderr into our log, restart with
 * backoff when it dies, and shutdown through GRPCController. While it is down
 * `client()` throws: callers fail closed (auth) or queue (notifier).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { EventEmitter } from 'node:events';
import type * as grpc from '@grpc/grpc-js';
import type { AppLogger } from '../logger/types';
import type { PluginConfig } from '../config/types';
import { checkChecksum, parseHandshake, pluginEnv, HandshakeError, type Handshake } from './handshake';
import { makeMtlsIdentity, type MtlsIdentity } from './mtls-cert';
import { grpcModule, loadService, unaryCall, PluginCallError } from './proto';
import { LineSplitter, logPluginLine } from './stdio';

export const PLUGIN_SENDER = 'plugins';

export interface PluginProcessOptions {
  /** "auth", "notifier": for log lines */
  kind: string;
  cfg: PluginConfig;
  magicCookie: [string, string];
  logger: AppLogger;
  handshakeTimeoutMs?: number;
  /** waits between restarts of a plugin that died (the last one repeats) */
  restartDelaysMs?: number[];
  callTimeoutMs?: number;
}

interface Running {
  child: ChildProcess;
  handshake: Handshake;
  credentials: grpc.ChannelCredentials;
  channelOptions: grpc.ChannelOptions;
  target: string;
  clients: Map<string, grpc.Client>;
}

const MAX_HANDSHAKE_BYTES = 64 * 1024;
const DEFAULT_RESTART_DELAYS = [500, 1000, 2000, 5000, 10_000, 30_000];

export class PluginProcess extends EventEmitter {
  private running?: Running;
  private stopping = false;
  private restarts = 0;
  private restartTimer?: NodeJS.Timeout;
  private readonly health = loadService('health.proto', 'grpc.health.v1.Health');
  private readonly controller = loadService('controller.proto', 'plugin.GRPCController');

  constructor(private readonly o: PluginProcessOptions) {
    super();
  }

  get name(): string { return `${this.o.kind} plugin "${this.o.cfg.cmd}"`; }
  get isRunning(): boolean { return this.running !== undefined; }
  get pid(): number | undefined { return this.running?.child.pid; }
  get callTimeoutMs(): number { return this.o.callTimeoutMs ?? 30_000; }

  /** Starts the plugin; rejects (with the child killed) on a checksum, handshake, connection or health failure. */
  async start(): Promise<void> {
    await checkChecksum(this.o.cfg.cmd, this.o.cfg.sha256sum);
    const identity = this.o.cfg.auto_mtls ? makeMtlsIdentity() : undefined;
    const child = spawn(this.o.cfg.cmd, this.o.cfg.args, {
      env: pluginEnv({ cmd: this.o.cfg.cmd, envPrefix: this.o.cfg.env_prefix, envVars: this.o.cfg.env_vars,
        magicCookie: this.o.magicCookie, clientCertPem: identity?.certPem }),
      stdio: ['ignore', 'pipe', 'pipe'],
      shell: false,
    });
    const stderr = new LineSplitter((line) => logPluginLine(this.o.logger, this.name, line));
    child.stderr?.on('data', (b: Buffer) => stderr.push(b));
    child.stderr?.on('error', () => undefined);
    // a kill that fails later must not become an uncaught 'error' event
    child.on('error', (e) => this.o.logger.warn(PLUGIN_SENDER, `${this.name}: ${e.message}`));
    child.stdout?.on('error', () => undefined);
    let handshake: Handshake;
    try {
      handshake = await this.readHandshake(child, () => stderr.lastLine);
    } catch (e) {
      child.kill('SIGKILL');
      throw e;
    }
    // after the handshake, stdout is only forwarded to the log
    const stdout = new LineSplitter((line) => this.o.logger.debug(PLUGIN_SENDER, `${this.name} stdout: ${line}`));
    child.stdout?.on('data', (b: Buffer) => stdout.push(b));
    const run = this.connection(child, handshake, identity);
    try {
      const res = await unaryCall<{ status: number }>(this.clientOf(run, this.health), this.health, 'Check', { service: 'plugin' }, this.o.handshakeTimeoutMs ?? 30_000);
      if (res.status !== 1) throw new PluginCallError(`health check status ${res.status}, want SERVING`);
    } catch (e) {
      this.closeClients(run);
      child.kill('SIGKILL');
      throw new Error(`${this.name}: ${(e as Error).message}`);
    }
    if (this.stopping) {
      // stop() was called while a restart was starting it
      this.closeClients(run);
      child.kill('SIGKILL');
      throw new Error(`${this.name}: stopped while starting`);
    }
    this.running = run;
    child.once('exit', (code, signal) => this.onExit(run, code, signal));
    if (child.exitCode !== null || child.signalCode !== null) this.onExit(run, child.exitCode, child.signalCode);
    this.o.logger.info(PLUGIN_SENDER, `${this.name} started`, { pid: child.pid ?? 0, network: handshake.network, auto_mtls: this.o.cfg.auto_mtls });
    this.emit('started');
  }

  private readHandshake(child: ChildProcess, lastStderr: () => string): Promise<Handshake> {
    const timeoutMs = this.o.handshakeTimeoutMs ?? 30_000;
    return new Promise((resolve, reject) => {
      let buf = '';
      const done = (err: Error | undefined, h?: Handshake): void => {
        clearTimeout(timer);
        child.stdout?.off('data', onData);
        child.off('close', onExit);
        child.off('error', onError);
        if (err) reject(err); else resolve(h!);
      };
      const timer = setTimeout(() => done(new HandshakeError(`${this.name}: no handshake line within ${timeoutMs} ms`)), timeoutMs);
      const onData = (b: Buffer): void => {
        buf += b.toString('utf8');
        const nl = buf.indexOf('\n');
        if (nl < 0) {
          if (buf.length > MAX_HANDSHAKE_BYTES) done(new HandshakeError(`${this.name}: handshake line longer than ${MAX_HANDSHAKE_BYTES} bytes`));
          return;
        }
        try {
          done(undefined, parseHandshake(buf.slice(0, nl), this.o.cfg.auto_mtls));
        } catch (e) {
          done(new HandshakeError(`${this.name}: ${(e as Error).message}`));
        }
      };
      const onExit = (code: number | null, signal: NodeJS.Signals | null): void => {
        const tail = lastStderr();
        done(new HandshakeError(`${this.name} exited (${signal ?? `code ${code}`}) before the handshake${tail ? `: ${tail}` : ''}`));
      };
      const onError = (e: Error): void => done(new HandshakeError(`${this.name}: cannot start: ${e.message}`));
      child.stdout?.on('data', onData);
      // 'close' comes after the pipes are drained, so the last stderr line is known
      child.once('close', onExit);
      child.once('error', onError);
    });
  }

  private connection(child: ChildProcess, h: Handshake, id: MtlsIdentity | undefined): Running {
    const target = h.network === 'unix' ? `unix://${h.address}` : h.address;
    const channelOptions: grpc.ChannelOptions = { 'grpc.max_receive_message_length': 16 * 1024 * 1024 };
    let credentials = grpcModule().credentials.createInsecure();
    if (id && h.cert) {
      // the plugin's own certificate is the only root: nothing else can answer for it
      credentials = grpcModule().credentials.createSsl(Buffer.from(h.cert.toString()), Buffer.from(id.keyPem), Buffer.from(id.certPem));
      channelOptions['grpc.ssl_target_name_override'] = 'localhost';
      channelOptions['grpc.default_authority'] = 'localhost';
    }
    return { child, handshake: h, credentials, channelOptions, target, clients: new Map() };
  }

  private clientOf(run: Running, service: grpc.ServiceDefinition): grpc.Client {
    const key = Object.values(service)[0]?.path.split('/')[1] ?? '';
    let c = run.clients.get(key);
    if (!c) {
      c = new (grpcModule().Client)(run.target, run.credentials, run.channelOptions);
      run.clients.set(key, c);
    }
    return c;
  }

  /** A client for a plugin service; throws when the plugin is not running (the caller fails closed or queues). */
  client(service: grpc.ServiceDefinition): grpc.Client {
    if (!this.running) throw new PluginCallError(`${this.name} is not running`, grpcModule().status.UNAVAILABLE);
    return this.clientOf(this.running, service);
  }

  private closeClients(run: Running): void {
    for (const c of run.clients.values()) c.close();
    run.clients.clear();
  }

  private onExit(run: Running, code: number | null, signal: NodeJS.Signals | null): void {
    if (this.running !== run) return;
    this.running = undefined;
    this.closeClients(run);
    if (this.stopping) return;
    const delays = this.o.restartDelaysMs ?? DEFAULT_RESTART_DELAYS;
    const delay = delays[Math.min(this.restarts, delays.length - 1)];
    this.restarts++;
    this.o.logger.error(PLUGIN_SENDER, `${this.name} exited (${signal ?? `code ${code}`}), restarting in ${delay} ms`);
    this.emit('exited');
    this.scheduleRestart(delay);
  }

  private scheduleRestart(delay: number): void {
    this.restartTimer = setTimeout(() => {
      this.restartTimer = undefined;
      if (this.stopping) return;
      this.start().then(() => { this.restarts = 0; }, (e: Error) => {
        if (this.stopping) return;
        const delays = this.o.restartDelaysMs ?? DEFAULT_RESTART_DELAYS;
        const next = delays[Math.min(this.restarts++, delays.length - 1)];
        this.o.logger.error(PLUGIN_SENDER, `restarting ${this.name} failed: ${e.message}; next try in ${next} ms`);
        this.scheduleRestart(next);
      });
    }, delay);
  }

  /** Graceful stop: GRPCController.Shutdown, then SIGKILL if the plugin is still there after `graceMs`. */
  async stop(graceMs = 2000): Promise<void> {
    this.stopping = true;
    if (this.restartTimer) clearTimeout(this.restartTimer);
    const run = this.running;
    if (!run) return;
    const exited = new Promise<void>((resolve) => {
      if (run.child.exitCode !== null || run.child.signalCode !== null) resolve();
      else run.child.once('exit', () => resolve());
    });
    await unaryCall(this.clientOf(run, this.controller), this.controller, 'Shutdown', {}, graceMs).catch(() => undefined);
    const timer = setTimeout(() => run.child.kill('SIGKILL'), graceMs);
    await exited;
    clearTimeout(timer);
    this.running = undefined;
    this.closeClients(run);
    this.o.logger.info(PLUGIN_SENDER, `${this.name} stopped`);
  }
}
