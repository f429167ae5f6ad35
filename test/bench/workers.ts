/**
 * The all-cores row: 100 parallel SFTP downloads (OpenSSH sftp, one session
 * each) from our server with `--workers` = cores beside the same server with
 * one worker, both on PostgreSQL with is_shared 1 (throw-away databases), and
 * beside OpenSSH. Wall time until all 100 are done.
 */
import { once } from 'node:events';
import { writeFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import { createDatabase, type TestDatabase } from '../support/databases';
import { sshArgs, type Row } from './rows';
import { startOurs, type Endpoint, type Ours } from './servers';
import { fmt, timed } from './util';

const FILE_MIB = 4;
const SESSIONS = 100;

async function startOnPg(dir: string, pubKey: string, tls: { cert: string; key: string }, db: TestDatabase, workers: number): Promise<Ours> {
  const c = db.config;
  return startOurs(dir, pubKey, tls, {
    name: `sftpgo-ts-w${workers}`,
    env: {
      SFTPGO_DATA_PROVIDER__DRIVER: 'postgresql', SFTPGO_DATA_PROVIDER__NAME: String(c.name),
      SFTPGO_DATA_PROVIDER__HOST: String(c.host), SFTPGO_DATA_PROVIDER__PORT: String(c.port),
      SFTPGO_DATA_PROVIDER__USERNAME: String(c.username),
      SFTPGO_DATA_PROVIDER__IS_SHARED: '1', SFTPGO_DATA_PROVIDER__NODE__HOST: '127.0.0.1',
      SFTPGO_WORKERS: String(workers),
    },
  });
}

async function parallelDownloads(ep: Endpoint, key: string, dir: string, sessions = SESSIONS): Promise<number> {
  const start = process.hrtime.bigint();
  await Promise.all(Array.from({ length: sessions }, (_, i) =>
    timed('sftp', [...sshArgs(ep, key), '-b', '-', `${ep.user}@127.0.0.1`],
      { input: `get ${ep.prefix ?? ''}workers.bin ${join(dir, `dl-${ep.name}-${i}.bin`)}\n` })));
  return Number(process.hrtime.bigint() - start) / 1e6;
}

export async function workersRows(dir: string, pubKey: string, tls: { cert: string; key: string }, key: string, ossh: Endpoint): Promise<Row[]> {
  const cores = availableParallelism();
  const dbs = [await createDatabase('postgresql'), await createDatabase('postgresql')];
  const servers: Ours[] = [];
  try {
    const many = await startOnPg(dir, pubKey, tls, dbs[0]!, cores);
    servers.push(many);
    const one = await startOnPg(dir, pubKey, tls, dbs[1]!, 1);
    servers.push(one);
    const payload = Buffer.alloc(FILE_MIB * 1024 * 1024, 7);
    for (const ep of [many.sftp, one.sftp, ossh]) writeFileSync(join(ep.home, `${ep.prefix ?? ''}workers.bin`), payload);
    // warm-up: a few downloads each (every worker's first login pays cold code paths)
    for (const ep of [many.sftp, one.sftp, ossh]) await parallelDownloads(ep, key, dir, cores);
    const tMany = await parallelDownloads(many.sftp, key, dir);
    const tOne = await parallelDownloads(one.sftp, key, dir);
    const tOssh = await parallelDownloads(ossh, key, dir);
    const label = `SFTP ${SESSIONS} parallel downloads of ${FILE_MIB} MiB, total ms (lower is better)`;
    return [
      { label: `${label}: ${cores} workers vs 1 worker (${fmt(tOne)} ms)`, ours: tMany, ref: tOne, refName: 'workers=1',
        ratio: tOne / tMany, target: 'report', met: undefined },
      { label: `${label}: ${cores} workers vs OpenSSH`, ours: tMany, ref: tOssh, refName: ossh.name,
        ratio: tOssh / tMany, target: 'report', met: undefined },
    ];
  } finally {
    for (const s of servers) {
      const exited = once(s.proc, 'exit');
      s.proc.kill('SIGTERM');
      await exited;
    }
    for (const db of dbs) await db.drop();
  }
}
