/**
 * npm run bench: sftpgo-ts beside OpenSSH's sshd (internal-sftp), in one run,
 * on loopback, driven by the OpenSSH sftp client. Prints MB/s and the ratio to
 * OpenSSH for each row, because this machine is noisy: only ratios measured
 * side by side mean anything.
 *
 * Rows: 1 GiB upload/download with aes128-gcm and chacha20-poly1305 (three
 * rounds interleaved), login latency (connect + auth + ls, median of 20),
 * 20 parallel sessions downloading 16 MiB each, and resident memory per idle
 * authenticated session with 200 sessions open.
 *
 * BENCH_SIZE_MB, BENCH_ROUNDS, BENCH_IDLE_SESSIONS shrink it for a quick look.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, writeFileSync, readFileSync, mkdirSync, rmSync, existsSync, chmodSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client } from 'ssh2';
import { freePort, waitForPort } from '../support/net';

const SIZE_MB = Number(process.env.BENCH_SIZE_MB ?? 1024);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
const IDLE_SESSIONS = Number(process.env.BENCH_IDLE_SESSIONS ?? 200);
const CIPHERS = ['aes128-gcm@openssh.com', 'chacha20-poly1305@openssh.com'];
const root = join(__dirname, '..', '..', '..');

interface Target { name: string; port: number; user: string; pid: () => number[]; home: string }

function sh(cmd: string, args: string[]): string {
  const r = spawnSync(cmd, args, { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} failed: ${r.stderr}`);
  return r.stdout;
}

function sshArgs(t: Target, key: string, extra: string[] = []): string[] {
  return ['-q', '-P', String(t.port), '-i', key, '-o', 'IdentitiesOnly=yes', '-o', 'StrictHostKeyChecking=no',
    '-o', 'UserKnownHostsFile=/dev/null', '-o', 'BatchMode=yes', ...extra];
}

function sftpBatch(t: Target, key: string, batch: string, extra: string[] = []): number {
  const start = process.hrtime.bigint();
  const r = spawnSync('sftp', [...sshArgs(t, key, extra), '-b', '-', `${t.user}@127.0.0.1`], { input: batch, encoding: 'utf8' });
  const ms = Number(process.hrtime.bigint() - start) / 1e6;
  if (r.status !== 0) throw new Error(`sftp against ${t.name} failed: ${r.stderr}`);
  return ms;
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
}

function rssKiB(pids: number[]): number {
  let total = 0;
  for (const pid of pids) {
    try {
      const m = /VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
      if (m) total += Number(m[1]);
    } catch { /* process gone */ }
  }
  return total;
}

function childPids(pid: number): number[] {
  const out = spawnSync('pgrep', ['-P', String(pid)], { encoding: 'utf8' }).stdout.trim();
  const kids = out ? out.split('\n').map(Number) : [];
  return kids.flatMap((k) => [k, ...childPids(k)]);
}

async function startOpenSsh(dir: string, pubKey: string): Promise<{ target: Target; proc: ChildProcess }> {
  const port = await freePort();
  mkdirSync('/run/sshd', { recursive: true });
  const hostKey = join(dir, 'ssh_host_ed25519_key');
  sh('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', hostKey]);
  const authKeys = join(dir, 'authorized_keys');
  writeFileSync(authKeys, pubKey);
  chmodSync(authKeys, 0o600);
  const home = join(dir, 'openssh-home');
  mkdirSync(home);
  const cfg = join(dir, 'sshd_config');
  writeFileSync(cfg, [
    `Port ${port}`, 'ListenAddress 127.0.0.1', `HostKey ${hostKey}`, `AuthorizedKeysFile ${authKeys}`,
    'StrictModes no', 'UsePAM no', 'PasswordAuthentication no', 'KbdInteractiveAuthentication no',
    'PermitRootLogin prohibit-password', `PidFile ${join(dir, 'sshd.pid')}`, 'MaxSessions 1000', 'MaxStartups 1000',
    `Subsystem sftp internal-sftp -d ${home}`, 'LogLevel ERROR',
  ].join('\n') + '\n');
  const proc = spawn('/usr/sbin/sshd', ['-D', '-e', '-f', cfg], { stdio: ['ignore', 'ignore', 'inherit'] });
  await waitForPort(port);
  const user = process.env.USER ?? 'root';
  return { proc, target: { name: 'OpenSSH', port, user, home, pid: () => childPids(proc.pid ?? 0) } };
}

async function startOurs(dir: string, pubKey: string): Promise<{ target: Target; proc: ChildProcess; nativeCrypto: string }> {
  const sftpPort = await freePort();
  const httpPort = await freePort();
  const configDir = join(dir, 'sftpgo');
  mkdirSync(configDir);
  const env = {
    ...process.env,
    SFTPGO_SFTPD__BINDINGS__0__PORT: String(sftpPort),
    SFTPGO_SFTPD__BINDINGS__0__ADDRESS: '127.0.0.1',
    SFTPGO_HTTPD__BINDINGS__0__PORT: String(httpPort),
    SFTPGO_HTTPD__BINDINGS__0__ADDRESS: '127.0.0.1',
    SFTPGO_DATA_PROVIDER__CREATE_DEFAULT_ADMIN: 'true',
    SFTPGO_DEFAULT_ADMIN_USERNAME: 'admin',
    SFTPGO_DEFAULT_ADMIN_PASSWORD: 'bench-admin-pw',
    SFTPGO_COMMON__MAX_PER_HOST_CONNECTIONS: '1000',
    SFTPGO_LOG_LEVEL: 'info',
  };
  const logFile = join(dir, 'sftpgo.log');
  const proc = spawn(process.execPath, [join(root, 'dist/src/cmd/main.js'), 'serve', '--config-dir', configDir,
    '--config-file', join(root, 'sftpgo.json'), '--log-file-path', logFile], { env, stdio: ['ignore', 'ignore', 'inherit'] });
  await waitForPort(sftpPort);
  await waitForPort(httpPort);
  const base = `http://127.0.0.1:${httpPort}/api/v2`;
  const basic = Buffer.from('admin:bench-admin-pw').toString('base64');
  const tok = await (await fetch(`${base}/token`, { headers: { authorization: `Basic ${basic}` } })).json() as { access_token: string };
  const home = join(dir, 'sftpgo-home');
  const res = await fetch(`${base}/users`, {
    method: 'POST',
    headers: { authorization: `Bearer ${tok.access_token}`, 'content-type': 'application/json' },
    body: JSON.stringify({ status: 1, username: 'bench', home_dir: home, public_keys: [pubKey.trim()], permissions: { '/': ['*'] } }),
  });
  if (res.status !== 201) throw new Error(`cannot create the bench user: ${res.status} ${await res.text()}`);
  mkdirSync(home, { recursive: true });
  const log = existsSync(logFile) ? readFileSync(logFile, 'utf8') : '';
  const m = /native crypto[^"]*"[^}]*?(loaded|available|unavailable|not loaded)/i.exec(log);
  const nativeCrypto = m ? m[0] : 'see log';
  return { proc, nativeCrypto, target: { name: 'sftpgo-ts', port: sftpPort, user: 'bench', home, pid: () => [proc.pid ?? 0] } };
}

async function idleSessions(t: Target, key: Buffer, n: number): Promise<number> {
  const before = rssKiB(t.pid());
  const clients: Client[] = [];
  for (let i = 0; i < n; i++) {
    const c = new Client();
    await new Promise<void>((resolve, reject) => {
      c.once('ready', () => c.sftp((err) => (err ? reject(err) : resolve())));
      c.once('error', reject);
      c.connect({ host: '127.0.0.1', port: t.port, username: t.user, privateKey: key, readyTimeout: 20000 });
    });
    clients.push(c);
  }
  const after = rssKiB(t.pid());
  for (const c of clients) c.end();
  return (after - before) / n;
}

function fmt(n: number): string { return n.toFixed(1); }

async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'sftpgo-bench-'));
  const procs: ChildProcess[] = [];
  try {
    const key = join(dir, 'id_ed25519');
    sh('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', key]);
    const pub = readFileSync(`${key}.pub`, 'utf8');
    const ossh = await startOpenSsh(dir, pub);
    procs.push(ossh.proc);
    const ours = await startOurs(dir, pub);
    procs.push(ours.proc);
    const targets = [ours.target, ossh.target];
    const src = join(dir, 'payload.bin');
    sh('sh', ['-c', `head -c ${SIZE_MB}M /dev/urandom > ${src}`]);
    const small = join(dir, 'small.bin');
    sh('sh', ['-c', `head -c 16M /dev/urandom > ${small}`]);
    for (const t of targets) writeFileSync(join(t.home, 'small.bin'), readFileSync(small));

    console.log(`sftpgo-ts bench ${new Date().toISOString()} on ${process.platform} ${process.arch}, node ${process.version}`);
    console.log(`ssh2 native crypto binding: ${ours.nativeCrypto}`);
    console.log(`payload ${SIZE_MB} MiB, ${ROUNDS} rounds interleaved\n`);
    const rows: string[][] = [['row', 'sftpgo-ts', 'OpenSSH', 'ratio']];

    for (const cipher of CIPHERS) {
      const up: Record<string, number[]> = {};
      const down: Record<string, number[]> = {};
      for (let r = 0; r < ROUNDS; r++) {
        for (const t of targets) {
          const extra = ['-c', cipher];
          const dest = join(dir, `down-${t.name}.bin`);
          const u = sftpBatch(t, key, `put ${src} payload.bin\n`, extra);
          const d = sftpBatch(t, key, `get payload.bin ${dest}\n`, extra);
          (up[t.name] ??= []).push(SIZE_MB * 1.048576 / (u / 1000));
          (down[t.name] ??= []).push(SIZE_MB * 1.048576 / (d / 1000));
          rmSync(dest, { force: true });
        }
      }
      for (const [label, m] of [['upload', up], ['download', down]] as const) {
        const a = median(m['sftpgo-ts']);
        const b = median(m.OpenSSH);
        rows.push([`${label} ${cipher} MB/s`, fmt(a), fmt(b), (a / b).toFixed(2)]);
      }
    }

    const lat: Record<string, number[]> = {};
    for (let i = 0; i < 20; i++) for (const t of targets) (lat[t.name] ??= []).push(sftpBatch(t, key, 'ls\n'));
    const la = median(lat['sftpgo-ts']);
    const lb = median(lat.OpenSSH);
    rows.push(['login+ls median ms (lower is better)', fmt(la), fmt(lb), (lb / la).toFixed(2)]);

    const par: Record<string, number> = {};
    for (const t of targets) {
      const start = process.hrtime.bigint();
      await Promise.all(Array.from({ length: 20 }, (_, i) => new Promise<void>((resolve, reject) => {
        const p = spawn('sftp', [...sshArgs(t, key), '-b', '-', `${t.user}@127.0.0.1`], { stdio: ['pipe', 'ignore', 'pipe'] });
        p.stdin.end(`get small.bin ${join(dir, `par-${t.name}-${i}.bin`)}\n`);
        p.on('exit', (code) => (code === 0 ? resolve() : reject(new Error(`parallel sftp exit ${code}`))));
      })));
      par[t.name] = (20 * 16 * 1.048576) / (Number(process.hrtime.bigint() - start) / 1e9);
    }
    rows.push(['20 parallel x 16 MiB download, MB/s total', fmt(par['sftpgo-ts']), fmt(par.OpenSSH), (par['sftpgo-ts'] / par.OpenSSH).toFixed(2)]);

    const keyBuf = readFileSync(key);
    const ia = await idleSessions(ours.target, keyBuf, IDLE_SESSIONS);
    const ib = await idleSessions(ossh.target, keyBuf, IDLE_SESSIONS);
    rows.push([`RSS per idle session KiB (${IDLE_SESSIONS} open, lower is better)`, fmt(ia), fmt(ib), (ib / ia).toFixed(2)]);

    const w = rows[0].map((_, i) => Math.max(...rows.map((r) => r[i].length)));
    for (const r of rows) console.log(r.map((c, i) => (i === 0 ? c.padEnd(w[i]) : c.padStart(w[i]))).join('  '));
    console.log('\nratio > 1 means sftpgo-ts is better (for times and memory the ratio is OpenSSH / sftpgo-ts)');
  } finally {
    for (const p of procs) p.kill('SIGTERM');
    rmSync(dir, { recursive: true, force: true });
  }
}

main().catch((e: unknown) => {
  console.error(e);
  process.exitCode = 1;
});
