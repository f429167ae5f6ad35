/**
 * npm run bench: sftpgo-ts beside reference servers, in one run, on loopback:
 * - SFTP against OpenSSH sshd (internal-sftp) with the OpenSSH sftp client:
 *   16 MiB, 256 MiB and 1 GiB upload/download with aes128-gcm and
 *   chacha20-poly1305, each the whole `sftp` run (connect, auth, transfer), login
 *   latency (median of 20), 20 parallel sessions x 16 MiB, RSS per idle session;
 * - the same logins with the PostgreSQL provider beside SQLite (median, 20 at once);
 * - SSH password login with an external auth hook (program, HTTP) beside the built-in check;
 * - FTP against vsftpd with lftp (passive, plain and explicit TLS);
 * - WebDAV against `rclone serve webdav` with curl PUT/GET;
 * - HTTP: the user REST API (raw upload, download) with curl against `rclone serve http`
 *   (downloads) and `rclone serve webdav` (uploads) on the same directory;
 * - storage (BENCH_ONLY=storage): SFTP to S3 (s3rver) beside rclone copyto, with the
 *   daemon's RSS growth (storage-s3.ts, also `npm run bench:storage`);
 * - BENCH_BIG=1: 10 GiB through FTP and WebDAV with the server's peak RSS.
 * Prints one table with the ratio to the reference for each row, because this
 * machine is noisy: only ratios measured side by side mean anything. Rounds
 * alternate which server goes first, and every timed transfer starts after a
 * `sync` (so no side pays for the writeback of the other's files).
 * BENCH_VERBOSE=1 prints every round.
 *
 * BENCH_SIZES (MiB, comma separated; default 16,256,1024) sets the SFTP sizes,
 * BENCH_SIZE_MB one size for every transfer row; FTP and WebDAV use the largest.
 * BENCH_B=<another checkout, built> runs that build too, in the same rounds
 * as a third side (rows marked [B]): the A/B figures of a change.
 * BENCH_ROUNDS, BENCH_IDLE_SESSIONS shrink it for a quick look;
 * BENCH_BIG_GB sets the big transfer size (default 10).
 */
import { once } from 'node:events';
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { join } from 'node:path';
import { nativeCryptoAvailable } from '../../src/sftpd/algorithms';
import { bigCells, bigTransfers } from './big';
import { eventsRow } from './events';
import {
  compareTransfers, curlDavTool, idleRow, idleSessionsKiB, lftpTool, loginRow, parallelRow, rowCells, sftpTool,
  type Row,
} from './rows';
import { providerRows } from './provider';
import { workersRows } from './workers';
import { makeCert, startOpenSsh, startOurs, startRclone, startVsftpd } from './servers';
import { hookLoginRows } from './hooks';
import { httpRows } from './http';
import { ldapLoginRows } from './ldap';
import { perimeterRows } from './perimeter';
import { storageRows } from './storage-rows';
import { benchDirWithKey, ensureBenchTools, installSignalCleanup, killAll, printTable, sh } from './util';

const SIZES_MB = (process.env.BENCH_SIZES ?? process.env.BENCH_SIZE_MB ?? '16,256,1024').split(',').map(Number);
const SIZE_MB = Math.max(...SIZES_MB);
const B_ROOT = process.env.BENCH_B;
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
const IDLE_SESSIONS = Number(process.env.BENCH_IDLE_SESSIONS ?? 200);
const BIG = process.env.BENCH_BIG === '1';
const BIG_GB = Number(process.env.BENCH_BIG_GB ?? 10);
const CIPHERS = ['aes128-gcm@openssh.com', 'chacha20-poly1305@openssh.com'];
/** BENCH_ONLY=idle,login,provider,workers,hooks,sftp,parallel,events,ftp,webdav,http,perimeter,storage runs only those groups (all by default) */
const ONLY = new Set((process.env.BENCH_ONLY ?? 'idle,login,provider,workers,hooks,sftp,parallel,events,ftp,webdav,http,perimeter,storage').split(','));
const CIPHER_ONLY = process.env.BENCH_CIPHER;

function machine(): string {
  const model = /model name\s*:\s*(.*)/.exec(readFileSync('/proc/cpuinfo', 'utf8'))?.[1] ?? 'unknown CPU';
  return `${cpus().length} CPUs (${model.trim()}), ${process.platform} ${process.arch}, node ${process.version}`;
}

async function main(): Promise<void> {
  installSignalCleanup();
  ensureBenchTools(ONLY);
  const { dir, key, pub } = benchDirWithKey('sftpgo-bench-');
  const tls = makeCert(dir);
  const ossh = await startOpenSsh(dir, pub);
  const ours = await startOurs(dir, pub, tls);
  const alt = B_ROOT ? (await startOurs(dir, pub, tls, { name: 'sftpgo-ts-B', root: B_ROOT })).sftp : undefined;
  // references of the groups that run only: a missing one would stop the others
  const vsftpd = ONLY.has('ftp') ? await startVsftpd(dir, tls) : undefined;
  const rclone = ONLY.has('webdav') || ONLY.has('http') ? await startRclone(dir) : undefined;
  const rcloneHttp = rclone && ONLY.has('http') ? await startRclone(dir, 'http', rclone.home) : undefined;
  const src = join(dir, 'payload.bin');
  sh('sh', ['-c', `head -c ${SIZE_MB}M /dev/urandom > ${src}`]);
  sh('sh', ['-c', `head -c 16M /dev/urandom > ${join(dir, 'small.bin')}`]);
  const small = readFileSync(join(dir, 'small.bin'));
  for (const ep of [ours.sftp, ossh]) writeFileSync(join(ep.home, 'small.bin'), small);

  const started = new Date().toISOString();
  const rows: Row[] = [];
  const step = (what: string): void => console.error(`[bench] ${what}`);

  // idle sessions first, while the heaps hold no garbage from the transfers
  if (ONLY.has('idle')) {
    step('idle sessions');
    const keyBuf = readFileSync(key);
    const ia = await idleSessionsKiB(ours.sftp, keyBuf, IDLE_SESSIONS);
    const ib = await idleSessionsKiB(ossh, keyBuf, IDLE_SESSIONS);
    rows.push(idleRow(ia, ib, ossh.name, IDLE_SESSIONS));
  }
  if (ONLY.has('login')) {
    step('login latency');
    rows.push(await loginRow(ours.sftp, ossh, key, 20));
  }
  if (ONLY.has('provider')) {
    step('logins on PostgreSQL beside SQLite');
    rows.push(...await providerRows(dir, pub, tls, key, ours.sftp, 20));
  }
  if (ONLY.has('workers')) {
    step('100 parallel downloads, workers = cores beside 1 worker and OpenSSH');
    rows.push(...await workersRows(dir, pub, tls, key, ossh));
  }
  if (ONLY.has('hooks')) {
    step('login with hooks');
    rows.push(...await hookLoginRows(dir, pub, tls, 20));
    step('login with LDAP');
    rows.push(...await ldapLoginRows(dir, pub, tls, 20));
  }
  for (const sizeMiB of ONLY.has('sftp') ? SIZES_MB : []) {
    const payload = join(dir, `payload-${sizeMiB}.bin`);
    if (sizeMiB !== SIZE_MB) sh('sh', ['-c', `head -c ${sizeMiB}M /dev/urandom > ${payload}`]);
    for (const cipher of CIPHERS.filter((c) => !CIPHER_ONLY || c.startsWith(CIPHER_ONLY))) {
      step(`SFTP ${cipher} ${sizeMiB} MiB`);
      rows.push(...await compareTransfers({ label: `SFTP ${cipher}`, tool: sftpTool(key, cipher), ours: ours.sftp, ref: ossh,
        src: sizeMiB === SIZE_MB ? src : payload, sizeMiB, rounds: ROUNDS, dir, min: 1.5, alt }));
    }
    rmSync(payload, { force: true });
  }
  if (ONLY.has('parallel')) {
    step('SFTP parallel');
    rows.push(await parallelRow(ours.sftp, ossh, key, dir));
  }
  if (ONLY.has('events')) {
    step('events (async upload action)');
    // BENCH_EVENTS_ROOT=<another checkout, built>: the events row's servers run that build (an A/B of a change)
    rows.push(...await eventsRow((name, env) => startOurs(dir, pub, tls, { name, env, root: process.env.BENCH_EVENTS_ROOT }), key, dir, ROUNDS));
  }
  if (vsftpd) {
    for (const ftps of [false, true]) {
      step(`FTP ${ftps ? 'TLS' : 'plain'}`);
      rows.push(...await compareTransfers({ label: `FTP passive ${ftps ? 'explicit TLS' : 'plain'} (lftp)`,
        tool: lftpTool(ftps), ours: ours.ftp, ref: vsftpd, src, sizeMiB: SIZE_MB, rounds: ROUNDS, dir, min: 0.8 }));
    }
  }
  if (rclone && rcloneHttp) {
    step('HTTP user API');
    const ref = { ...rclone, pids: () => [...rclone.pids(), ...rcloneHttp.pids()] };
    rows.push(...await httpRows({ ours: ours.http, rcloneDav: ref, rcloneHttpPort: rcloneHttp.port, src, sizeMiB: SIZE_MB, rounds: ROUNDS, dir }));
  }
  if (rclone && ONLY.has('webdav')) {
    step('WebDAV');
    rows.push(...await compareTransfers({ label: 'WebDAV (curl)', tool: curlDavTool(), ours: ours.webdav, ref: rclone,
      src, sizeMiB: SIZE_MB, rounds: ROUNDS, dir, min: 1.0 }));
  }
  let notes: string[] = [];
  if (ONLY.has('perimeter')) {
    step('perimeter: login during a flood, 10,000 bans');
    const p = await perimeterRows(dir, pub, tls, key);
    rows.push(...p.rows);
    notes = p.notes;
  }
  if (ONLY.has('storage')) {
    step(`storage: ${SIZE_MB} MiB SFTP to S3 beside rclone`);
    rows.push(...await storageRows(SIZE_MB, Math.max(ROUNDS, 2)));
  }
  rmSync(src, { force: true });
  let big: string[][] = [];
  if (BIG) {
    step(`${BIG_GB} GiB transfers`);
    big = (await bigTransfers(ours.ftp, ours.webdav, BIG_GB)).map(bigCells);
  }
  if (process.env.BENCH_PROF) {
    // a graceful exit, so node writes the CPU profile
    const exited = once(ours.proc, 'exit');
    ours.proc.kill('SIGTERM');
    await exited;
  }

  console.log(`sftpgo-ts bench, started ${started}`);
  console.log(`machine: ${machine()}`);
  console.log(`ssh2 native crypto binding: ${nativeCryptoAvailable ? 'loaded' : 'NOT loaded (pure JS fallback)'}`);
  console.log(`SFTP payloads ${SIZES_MB.join(', ')} MiB (others ${SIZE_MB} MiB), ${ROUNDS} round(s) interleaved, medians; ratio > 1 means sftpgo-ts is better`);
  console.log(`spread: min/median/max of each side (sftpgo-ts | reference)${alt ? `; [B] rows: build at ${B_ROOT}` : ''}\n`);
  printTable([['row', 'sftpgo-ts', 'reference', 'ref', 'ratio', 'target', 'met', 'spread'], ...rows.map(rowCells)]);
  for (const n of notes) console.log(n);
  if (big.length > 0) {
    console.log(`\nflat memory check (sftpgo-ts only, RSS sampled every 100 ms from /proc)`);
    printTable([['transfer', 'MB/s', 'RSS before MiB', 'peak RSS MiB', 'growth MiB'], ...big]);
  }
}

main()
  .catch((e: unknown) => {
    console.error(e);
    process.exitCode = 1;
  })
  .finally(killAll);
