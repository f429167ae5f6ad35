/**
 * The data provider rows: the same server on PostgreSQL beside itself on
 * SQLite (the default), both started by the bench, the PostgreSQL one on a
 * throw-away database dropped at the end. Login latency (OpenSSH sftp:
 * connect, public key auth, ls, exit; median of n, interleaved) and 20
 * logins at once (wall time until all 20 are done).
 */
import { once } from 'node:events';
import { createDatabase } from '../support/databases';
import { sshArgs, type Row } from './rows';
import { startOurs, type Endpoint } from './servers';
import { median, timed } from './util';

const loginLs = (ep: Endpoint, key: string): Promise<number> =>
  timed('sftp', [...sshArgs(ep, key), '-b', '-', `${ep.user}@127.0.0.1`], { input: 'ls\n' });

export async function providerRows(dir: string, pubKey: string, tls: { cert: string; key: string }, key: string,
  sqlite: Endpoint, n: number): Promise<Row[]> {
  const db = await createDatabase('postgresql');
  try {
    const c = db.config;
    const pg = await startOurs(dir, pubKey, tls, {
      name: 'sftpgo-ts-pg',
      env: {
        SFTPGO_DATA_PROVIDER__DRIVER: 'postgresql', SFTPGO_DATA_PROVIDER__NAME: String(c.name),
        SFTPGO_DATA_PROVIDER__HOST: String(c.host), SFTPGO_DATA_PROVIDER__PORT: String(c.port),
        SFTPGO_DATA_PROVIDER__USERNAME: String(c.username),
      },
    });
    try {
      const eps = [pg.sftp, { ...sqlite, name: 'SQLite' }];
      // one untimed login each: the first password/key check and cold code paths are not what is measured
      for (const ep of eps) await loginLs(ep, key);
      const lat = new Map<string, number[]>();
      for (let i = 0; i < n; i++) {
        for (const ep of eps) lat.set(ep.name, [...(lat.get(ep.name) ?? []), await loginLs(ep, key)]);
      }
      const parallel = new Map<string, number>();
      for (const ep of eps) {
        const start = process.hrtime.bigint();
        await Promise.all(Array.from({ length: 20 }, () => loginLs(ep, key)));
        parallel.set(ep.name, Number(process.hrtime.bigint() - start) / 1e6);
      }
      const a = median(lat.get(pg.sftp.name)!);
      const b = median(lat.get('SQLite')!);
      const pa = parallel.get(pg.sftp.name)!;
      const pb = parallel.get('SQLite')!;
      return [
        { label: `SFTP login+ls median ms on PostgreSQL (${n}, lower is better)`, ours: a, ref: b, refName: 'SQLite',
          ratio: b / a, target: '≤ 50 ms', met: a <= 50 },
        { label: 'SFTP 20 logins+ls at once on PostgreSQL, total ms (lower is better)', ours: pa, ref: pb, refName: 'SQLite',
          ratio: pb / pa, target: 'report', met: undefined },
      ];
    } finally {
      const exited = once(pg.proc, 'exit');
      pg.proc.kill('SIGTERM');
      await exited;
    }
  } finally {
    await db.drop();
  }
}
