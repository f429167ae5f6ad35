/**
 * A PostgreSQL server of the test's own: Debian's initdb/pg_ctl run as the
 * `postgres` user (runuser), the cluster in a temp dir, a free loopback port,
 * the unix socket in the temp dir. A test may stop it and start it again
 * (the shared service on 5432 is never touched), give it TLS settings and
 * pg_hba lines, and must call destroy() in t.after: it stops the server even
 * when the test failed and removes the dir.
 */
import { execFile } from 'node:child_process';
import { chownSync, chmodSync, copyFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pgQuery } from './databases';
import { freePort } from './net';

const PG_LIB = '/usr/lib/postgresql';

export interface PrivatePostgresOptions {
  /** postgresql.conf settings, written before the first start (ssl, ssl_cert_file...) */
  settings?: Record<string, string>;
  /** pg_hba.conf lines matched before the trust lines every cluster gets */
  hba?: readonly string[];
  /** files copied into the cluster's dir, owned by postgres, mode 0600 (server keys must be): name -> source path */
  files?: Record<string, string>;
}

/** Debian's newest installed server binaries; a clear error when PostgreSQL is not installed. */
function binDir(): string {
  const versions = existsSync(PG_LIB) ? readdirSync(PG_LIB).filter((v) => existsSync(join(PG_LIB, v, 'bin', 'pg_ctl'))) : [];
  versions.sort((a, b) => Number(a) - Number(b));
  const newest = versions[versions.length - 1];
  if (!newest) throw new Error(`no PostgreSQL server binaries under ${PG_LIB}: install the postgresql package (.ci/databases.sh does)`);
  return join(PG_LIB, newest, 'bin');
}

function asPostgres(cmd: string, args: readonly string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile('runuser', ['-u', 'postgres', '--', cmd, ...args], { timeout: 120_000 }, (err, stdout, stderr) => {
      if (err) reject(new Error(`${cmd} ${args.join(' ')} failed: ${err.message}\n${stdout}${stderr}`));
      else resolve(stdout);
    });
  });
}

export class PrivatePostgres {
  private constructor(readonly dir: string, readonly port: number, private readonly bin: string) {}

  get dataDir(): string { return join(this.dir, 'data'); }
  get socketDir(): string { return join(this.dir, 'sock'); }
  get logFile(): string { return join(this.dir, 'server.log'); }
  /** a file given in options.files, by name */
  file(name: string): string { return join(this.dir, name); }

  /** initdb + first start; on failure the half-made cluster is removed. The caller registers destroy() next. */
  static async create(opts: PrivatePostgresOptions = {}): Promise<PrivatePostgres> {
    const bin = binDir();
    const dir = mkdtempSync(join(tmpdir(), 'sftpgo-pg-'));
    const server = new PrivatePostgres(dir, await freePort(), bin);
    try {
      const { uid, gid } = postgresIds();
      chownSync(dir, uid, gid);
      mkdirSync(server.socketDir);
      chownSync(server.socketDir, uid, gid);
      for (const [name, src] of Object.entries(opts.files ?? {})) {
        copyFileSync(src, server.file(name));
        chownSync(server.file(name), uid, gid);
        chmodSync(server.file(name), 0o600);
      }
      await asPostgres(join(bin, 'initdb'), ['-D', server.dataDir, '--auth=trust', '--username=postgres', '--no-sync', '--no-instructions', '-E', 'UTF8']);
      const settings: Record<string, string> = {
        port: String(server.port), listen_addresses: "'127.0.0.1'", unix_socket_directories: `'${server.socketDir}'`,
        // a throw-away cluster: durability costs time and buys nothing
        fsync: 'off', synchronous_commit: 'off', full_page_writes: 'off', max_connections: '100',
        ...opts.settings,
      };
      const conf = Object.entries(settings).map(([k, v]) => `${k} = ${v}`).join('\n');
      writeFileSync(join(server.dataDir, 'postgresql.conf'), `${readFileSync(join(server.dataDir, 'postgresql.conf'), 'utf8')}\n${conf}\n`);
      const hba = [...(opts.hba ?? []), 'local all all trust', 'host all all 127.0.0.1/32 trust'];
      writeFileSync(join(server.dataDir, 'pg_hba.conf'), `${hba.join('\n')}\n`);
      await server.start();
    } catch (e) {
      await server.destroy();
      throw e;
    }
    return server;
  }

  /** Starts the server and returns once it accepts connections (pg_ctl -w). */
  async start(): Promise<void> {
    await asPostgres(join(this.bin, 'pg_ctl'), ['-D', this.dataDir, '-l', this.logFile, '-w', '-t', '60', 'start']);
  }

  /** Fast shutdown: sessions are terminated (57P01), as when an operator stops the database. */
  async stop(mode: 'fast' | 'immediate' = 'fast'): Promise<void> {
    await asPostgres(join(this.bin, 'pg_ctl'), ['-D', this.dataDir, '-m', mode, '-w', '-t', '60', 'stop']);
  }

  /** Stops the server if it runs (immediate: no waiting on clients) and removes its dir. Safe to call twice. */
  async destroy(): Promise<void> {
    if (existsSync(join(this.dataDir, 'postmaster.pid'))) {
      await this.stop('immediate').catch(() => undefined);
    }
    rmSync(this.dir, { recursive: true, force: true });
  }

  /** Runs one statement as postgres over the unix socket (CREATE DATABASE, CREATE ROLE...). */
  query(sql: string, database = 'postgres'): Promise<Record<string, unknown>[]> {
    return pgQuery({ host: this.socketDir, port: this.port, user: 'postgres', database }, sql);
  }

  /** The server's own log (pg_ctl -l), for assertions and failure messages. */
  log(): string {
    return existsSync(this.logFile) ? readFileSync(this.logFile, 'utf8') : '';
  }
}

function postgresIds(): { uid: number; gid: number } {
  const line = readFileSync('/etc/passwd', 'utf8').split('\n').find((l) => l.startsWith('postgres:'));
  const [, , uid, gid] = line?.split(':') ?? [];
  if (uid === undefined || gid === undefined) throw new Error('no postgres user in /etc/passwd: install the postgresql package');
  return { uid: Number(uid), gid: Number(gid) };
}
