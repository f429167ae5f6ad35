/**
 * The perimeter rows: a good user's SFTP login while another process floods
 * FTP with failed logins from 1,000 spoofed sources (10,000 failures, PROXY
 * v1 headers), beside the same login with no flood; then the server's RSS
 * after 10,000 sources are banned (20,000 unknown-user failures), with the
 * defender's host count read from /api/v2/defender/hosts.
 * Defender: memory driver, threshold 11, score_valid 1, score_invalid 10,
 * entries_hard_limit 20000 (so 10,000 bans are all kept), login_delay 0
 * (with SFTPGo's 1 s per failure the flood would mostly measure sleeping),
 * bcrypt cost 4 for the bench user (10,000 cost-10 checks take minutes here).
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Row } from './rows';
import { sshArgs } from './rows';
import { startOurs, type Ours } from './servers';
import { fmt, median, rssKiB, timed, track } from './util';

const FLOOD_ENV = {
  SFTPGO_COMMON__DEFENDER__ENABLED: 'true',
  SFTPGO_COMMON__DEFENDER__DRIVER: 'memory',
  SFTPGO_COMMON__DEFENDER__THRESHOLD: '11',
  SFTPGO_COMMON__DEFENDER__SCORE_VALID: '1',
  SFTPGO_COMMON__DEFENDER__SCORE_INVALID: '10',
  SFTPGO_COMMON__DEFENDER__ENTRIES_SOFT_LIMIT: '15000',
  SFTPGO_COMMON__DEFENDER__ENTRIES_HARD_LIMIT: '20000',
  SFTPGO_COMMON__DEFENDER__LOGIN_DELAY__PASSWORD_FAILED: '0',
  SFTPGO_COMMON__PROXY_PROTOCOL: '1',
  SFTPGO_COMMON__PROXY_ALLOWED: '127.0.0.1',
  SFTPGO_SFTPD__BINDINGS__0__APPLY_PROXY_CONFIG: 'false',
  SFTPGO_DATA_PROVIDER__PASSWORD_HASHING__BCRYPT_OPTIONS__COST: '4',
  SFTPGO_COMMON__MAX_PER_HOST_CONNECTIONS: '0',
};

function flood(ftpPort: number, first: number, count: number, tries: number, user: string): Promise<{ failed: number; refused: number; ms: number }> {
  return new Promise((resolve, reject) => {
    const p = track(process.execPath, [join(__dirname, 'flood.js'), String(ftpPort), String(first), String(count), String(tries), user, '64'],
      { stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    p.stdout?.on('data', (d: Buffer) => { out += d.toString(); });
    p.on('exit', (code) => {
      if (code !== 0) { reject(new Error(`flood exited ${code}`)); return; }
      resolve(JSON.parse(out.trim()) as { failed: number; refused: number; ms: number });
    });
  });
}

async function loginMs(ours: Ours, key: string): Promise<number> {
  return timed('sftp', [...sshArgs(ours.sftp, key), '-b', '-', `${ours.sftp.user}@127.0.0.1`], { input: 'ls\n' });
}

async function bannedCount(ours: Ours, httpPort: number): Promise<number> {
  const base = `http://127.0.0.1:${httpPort}/api/v2`;
  const basic = Buffer.from('admin:bench-admin-pw').toString('base64');
  const tok = await (await fetch(`${base}/token`, { headers: { authorization: `Basic ${basic}` } })).json() as { access_token: string };
  const hosts = await (await fetch(`${base}/defender/hosts`, { headers: { authorization: `Bearer ${tok.access_token}` } })).json() as { ban_time?: string }[];
  void ours;
  return hosts.filter((h) => h.ban_time).length;
}

export async function perimeterRows(dir: string, pub: string, tls: { cert: string; key: string }, key: string): Promise<{ rows: Row[]; notes: string[] }> {
  const pdir = join(dir, 'perimeter');
  mkdirSync(pdir);
  const ours = await startOurs(pdir, pub, tls, { env: FLOOD_ENV });
  try {
    const quiet: number[] = [];
    for (let i = 0; i < 10; i++) quiet.push(await loginMs(ours, key));
    const flooding = flood(ours.ftp.port, 0, 1000, 10, ours.ftp.user);
    let over = false;
    void flooding.finally(() => { over = true; });
    const loud: number[] = [];
    // logins for as long as the flood lasts (at most 40; the first one always runs during it)
    while (loud.length < 40 && (!over || loud.length === 0)) loud.push(await loginMs(ours, key));
    const f1 = await flooding;
    const rssBefore = rssKiB(ours.sftp.pids());
    const f2 = await flood(ours.ftp.port, 100_000, 10_000, 2, '*');
    const rssAfter = rssKiB(ours.sftp.pids());
    const banned = await bannedCount(ours, ours.httpPort);
    const a = median(quiet);
    const b = median(loud);
    const rows: Row[] = [
      { label: `SFTP login+ls median ms during an FTP flood (${loud.length} logins; ref = no flood)`, ours: b, ref: a, refName: 'same, no flood',
        ratio: a / b, target: '≤ 3× slower', met: b <= 3 * a },
      { label: `RSS MiB after ${banned} banned sources (ref = before)`, ours: rssAfter / 1024, ref: rssBefore / 1024, refName: 'before',
        ratio: rssBefore / rssAfter, target: '+≤ 64 MiB', met: rssAfter - rssBefore <= 64 * 1024 },
    ];
    const notes = [
      `perimeter flood 1: ${f1.failed} failed FTP logins from 1,000 spoofed sources in ${fmt(f1.ms / 1000)} s (${fmt(f1.failed / (f1.ms / 1000))}/s), ${f1.refused} connections refused`,
      `perimeter flood 2: ${f2.failed} unknown-user failures from 10,000 sources in ${fmt(f2.ms / 1000)} s, ${f2.refused} refused; ${banned} banned, RSS ${fmt(rssBefore / 1024)} -> ${fmt(rssAfter / 1024)} MiB`,
    ];
    return { rows, notes };
  } finally {
    ours.proc.kill('SIGTERM');
  }
}
