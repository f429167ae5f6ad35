/**
 * Bench rows for login hooks: SSH password logins (ssh2 client in the bench
 * process: connect, authenticate, disconnect) against one sftgo-ts process
 * whose `bench` user logs in with the built-in check and whose `hooked` user
 * is decided by an external auth hook, program (a sh script) or HTTP (a
 * server in the bench process); interleaved, medians. Target: a hook login
 * within 2x the built-in one.
 */
import { chmodSync, mkdirSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { Client } from 'ssh2';
import { PASSWORD, startOurs, type Ours } from './servers';
import { ratioRow, type Row } from './rows';
import { median, onCleanup } from './util';

function hookedUser(home: string): string {
  return JSON.stringify({ status: 1, username: 'hooked', home_dir: home, permissions: { '/': ['*'] } });
}

/** connect + password auth + disconnect, in ms */
function passwordLoginMs(port: number, username: string): Promise<number> {
  const start = process.hrtime.bigint();
  return new Promise((resolve, reject) => {
    const c = new Client();
    c.once('ready', () => {
      const ms = Number(process.hrtime.bigint() - start) / 1e6;
      c.once('close', () => resolve(ms));
      c.end();
    });
    c.once('error', reject);
    c.connect({ host: '127.0.0.1', port, username, password: PASSWORD, readyTimeout: 30_000, tryKeyboard: false });
  });
}

export async function compare(ours: Ours, label: string, n: number): Promise<Row> {
  const builtin: number[] = [];
  const hooked: number[] = [];
  // untimed warm-up: first hash verification, first spawn, the hooked user's creation
  await passwordLoginMs(ours.sftp.port, 'bench');
  await passwordLoginMs(ours.sftp.port, 'hooked');
  for (let i = 0; i < n; i++) {
    builtin.push(await passwordLoginMs(ours.sftp.port, 'bench'));
    hooked.push(await passwordLoginMs(ours.sftp.port, 'hooked'));
  }
  return ratioRow(`SSH password login median ms (${n}), ${label} vs built-in`, median(hooked), median(builtin), 'built-in', 0.5, true);
}

/** Starts the servers with the hooks, measures, and stops them (the caller's killAll also covers them). */
export async function hookLoginRows(dir: string, pub: string, tls: { cert: string; key: string }, n: number): Promise<Row[]> {
  const rows: Row[] = [];
  const home = join(dir, 'hooked-home');
  const script = join(dir, 'ext-auth.sh');
  // the built-in user is excluded by its filters; the hook answers for everyone else
  writeFileSync(script, `#!/bin/sh\n[ "$SFTPGO_AUTHD_USERNAME" = hooked ] || exit 1\necho '${hookedUser(home)}'\n`);
  chmodSync(script, 0o755);
  const builtinUser = { hooks: { external_auth_disabled: true } };
  mkdirSync(join(dir, 'hook-prog'));
  const prog = await startOurs(join(dir, 'hook-prog'), pub, tls,
    { env: { SFTPGO_DATA_PROVIDER__EXTERNAL_AUTH_HOOK: script }, userFilters: builtinUser });
  rows.push(await compare(prog, 'external auth program hook', n));
  prog.proc.kill('SIGTERM');

  const server = http.createServer((req, res) => {
    req.resume();
    req.on('end', () => { res.writeHead(200, { 'Content-Type': 'application/json' }); res.end(hookedUser(home)); });
  });
  // TCP connections the hook endpoint accepted: with the keep-alive pool, one for the whole row
  let hookConnections = 0;
  server.on('connection', () => { hookConnections++; });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  onCleanup(() => server.close());
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/auth`;
  mkdirSync(join(dir, 'hook-http'));
  const viaHttp = await startOurs(join(dir, 'hook-http'), pub, tls,
    { env: { SFTPGO_DATA_PROVIDER__EXTERNAL_AUTH_HOOK: url }, userFilters: builtinUser });
  const httpRow = await compare(viaHttp, 'external auth HTTP hook', n);
  rows.push({ ...httpRow, label: `${httpRow.label}, ${hookConnections} hook TCP connections for ${n + 1} hooked logins` });
  viaHttp.proc.kill('SIGTERM');
  server.close();
  return rows;
}
