/**
 * A MariaDB server of the test's own: mariadb-install-db into a temp datadir,
 * `mariadbd` as a child process running as the `mysql` user on a free loopback
 * port, its socket in the temp dir, optional TLS files. The shared service on
 * 3306 is never touched. destroy() (in t.after) stops it, failed test or not,
 * and removes the dir.
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { chmodSync, chownSync, copyFileSync, existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import mysql from 'mysql2/promise';
import { freePort } from './net';

const MARIADBD = '/usr/sbin/mariadbd';
const READY = /ready for connections/;
const START_TIMEOUT_MS = 120_000;

export interface PrivateMariadbOptions {
  /** server options without the leading dashes (ssl-ca, ssl-cert, ssl-key...), values may name files from `files` */
  settings?: Record<string, string>;
  /** files copied into the server's dir, owned by mysql, mode 0600: name -> source path */
  files?: Record<string, string>;
}

function userIds(name: string): { uid: number; gid: number } {
  const line = readFileSync('/etc/passwd', 'utf8').split('\n').find((l) => l.startsWith(`${name}:`));
  const [, , uid, gid] = line?.split(':') ?? [];
  if (uid === undefined || gid === undefined) throw new Error(`no ${name} user in /etc/passwd: install mariadb-server (.ci/databases.sh does)`);
  return { uid: Number(uid), gid: Number(gid) };
}

export class PrivateMariadb {
  private child: ChildProcess | undefined;
  private exited: Promise<void> = Promise.resolve();

  private constructor(readonly dir: string, readonly port: number, private readonly settings: Record<string, string>) {}

  get socket(): string { return join(this.dir, 'mysqld.sock'); }
  get dataDir(): string { return join(this.dir, 'data'); }
  file(name: string): string { return join(this.dir, name); }

  static async create(opts: PrivateMariadbOptions = {}): Promise<PrivateMariadb> {
    if (!existsSync(MARIADBD)) throw new Error(`${MARIADBD} is missing: install mariadb-server (.ci/databases.sh does)`);
    const dir = mkdtempSync(join(tmpdir(), 'sftpgo-maria-'));
    const server = new PrivateMariadb(dir, await freePort(), {});
    const { uid, gid } = userIds('mysql');
    try {
      chownSync(dir, uid, gid);
      const resolved: Record<string, string> = {};
      for (const [name, src] of Object.entries(opts.files ?? {})) {
        copyFileSync(src, server.file(name));
        chownSync(server.file(name), uid, gid);
        chmodSync(server.file(name), 0o600);
      }
      for (const [k, v] of Object.entries(opts.settings ?? {})) resolved[k] = opts.files?.[v] ? server.file(v) : v;
      Object.assign(server.settings, resolved);
      await new Promise<void>((resolve, reject) => {
        execFile('mariadb-install-db', ['--no-defaults', `--datadir=${server.dataDir}`, '--user=mysql', '--skip-test-db',
          '--auth-root-authentication-method=normal'], { timeout: START_TIMEOUT_MS }, (err, out, errOut) => {
          if (err) reject(new Error(`mariadb-install-db failed: ${err.message}\n${out}${errOut}`)); else resolve();
        });
      });
      await server.start();
      // the tests connect over TCP from 127.0.0.1 as root without a password, as on the shared service
      await server.query("CREATE USER IF NOT EXISTS 'root'@'127.0.0.1' IDENTIFIED BY ''");
      await server.query("GRANT ALL PRIVILEGES ON *.* TO 'root'@'127.0.0.1' WITH GRANT OPTION");
    } catch (e) {
      await server.destroy();
      throw e;
    }
    return server;
  }

  /** Starts mariadbd and returns once it logged "ready for connections". */
  async start(): Promise<void> {
    const args = ['--no-defaults', `--datadir=${this.dataDir}`, '--user=mysql', `--port=${this.port}`, '--bind-address=127.0.0.1',
      `--socket=${this.socket}`, `--pid-file=${join(this.dir, 'mysqld.pid')}`, '--skip-name-resolve', '--skip-log-bin',
      '--innodb-buffer-pool-size=16M', '--innodb-log-file-size=8M', '--performance-schema=OFF', '--max-connections=100',
      ...Object.entries(this.settings).map(([k, v]) => `--${k}=${v}`)];
    const child = spawn(MARIADBD, args, { stdio: ['ignore', 'ignore', 'pipe'] });
    this.child = child;
    this.exited = new Promise((resolve) => child.on('exit', () => resolve()));
    let log = '';
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`mariadbd not ready after ${START_TIMEOUT_MS} ms:\n${log}`)), START_TIMEOUT_MS);
      child.stderr?.on('data', (b: Buffer) => {
        log += b.toString();
        if (READY.test(log)) { clearTimeout(timer); resolve(); }
      });
      child.on('exit', (code, sig) => { clearTimeout(timer); reject(new Error(`mariadbd exited (${String(code ?? sig)}):\n${log}`)); });
    });
    // keep draining its log so the pipe never fills
    child.stderr?.resume();
  }

  /** SIGTERM: a normal shutdown; resolves once the process is gone. */
  async stop(): Promise<void> {
    const child = this.child;
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    child.kill('SIGTERM');
    await this.exited;
  }

  async destroy(): Promise<void> {
    await this.stop().catch(() => undefined);
    rmSync(this.dir, { recursive: true, force: true });
  }

  /** One statement as root over the unix socket. */
  async query(sql: string): Promise<unknown> {
    const conn = await mysql.createConnection({ socketPath: this.socket, user: 'root' });
    conn.on('error', () => undefined);
    try {
      const [rows] = await conn.query(sql);
      return rows;
    } finally {
      await conn.end();
    }
  }
}
