/**
 * The daemon as a whole, as users run it (`sftpgo serve` in its own process):
 * users and data survive a restart, SIGTERM lets a running upload finish, a
 * killed client leaves no partial file in atomic mode, and 20 clients transfer
 * at once. Clients: the OpenSSH binaries and ssh2's client.
 */
import { test, describe, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { existsSync, readFileSync, readdirSync, writeFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { Client, type SFTPWrapper } from 'ssh2';
import { startDaemon, stopDaemon, removeDaemonDir, until, type Daemon } from '../../support/daemon';
import { writeKeyPair } from '../../support/sshkeys';
import { run, keyOpts, passwordAuth } from '../sftpd/openssh';

interface ApiConnection { connection_id: string; username: string; active_transfers?: { size: number }[] }

const sha = (b: Buffer): string => createHash('sha256').update(b).digest('hex');

function sftpArgs(d: Daemon, key: string, user: string): string[] {
  return [...keyOpts(key), '-P', String(d.sftpPort), '-b', '-', `${user}@127.0.0.1`];
}

async function connectSftp(d: Daemon, user: string, privateKey: Buffer): Promise<{ client: Client; sftp: SFTPWrapper }> {
  const client = new Client();
  return new Promise((resolve, reject) => {
    client.once('error', reject);
    client.once('ready', () => client.sftp((err, sftp) => (err ? reject(err) : resolve({ client, sftp }))));
    client.connect({ host: '127.0.0.1', port: d.sftpPort, username: user, privateKey, readyTimeout: 30000 });
  });
}

describe('daemon: restart, graceful shutdown, killed clients, concurrency', () => {
  const daemons: Daemon[] = [];
  after(() => { for (const d of daemons) if (!process.env.KEEP_DAEMON_DIRS) removeDaemonDir(d); });

  test('users and files are intact after a restart (SQLite)', async () => {
    const d1 = await startDaemon();
    daemons.push(d1);
    const key = await writeKeyPair(d1.dir, 'u_ed25519', 'ed25519');
    const home = join(d1.dir, 'homes', 'alice');
    const created = await d1.api('POST', '/users', {
      status: 1, username: 'alice', password: 'alice-pw-1', home_dir: home, public_keys: [key.publicKey], permissions: { '/': ['*'] },
    });
    assert.equal(created.status, 201, JSON.stringify(created.json));
    const payload = randomBytes(3 * 1024 * 1024 + 17);
    const local = join(d1.dir, 'payload.bin');
    writeFileSync(local, payload);
    const put = await run('sftp', sftpArgs(d1, key.privateKeyPath, 'alice'), { input: `mkdir docs\nput ${local} docs/p.bin\n` });
    assert.equal(put.status, 0, put.stderr);
    assert.equal(await stopDaemon(d1), 0, 'SIGTERM exits 0');

    const d2 = await startDaemon({ reuse: { dir: d1.dir, sftpPort: d1.sftpPort, httpPort: d1.httpPort } });
    daemons.push(d2);
    const got = await d2.api<{ username: string; home_dir: string; has_password: boolean; used_quota_files: number }>('GET', '/users/alice');
    assert.equal(got.status, 200);
    assert.equal(got.json.home_dir, home);
    assert.equal(got.json.has_password, true);
    const back = join(d1.dir, 'back.bin');
    const get = await run('sftp', sftpArgs(d2, key.privateKeyPath, 'alice'), { input: `get docs/p.bin ${back}\n` });
    assert.equal(get.status, 0, get.stderr);
    assert.equal(sha(readFileSync(back)), sha(payload));
    // the password (stored hashed) still works after the restart
    const pw = await passwordAuth(d1.dir, 'alice-pw-1');
    // sftp -b turns BatchMode on (no password prompt); an earlier -o wins in ssh
    const ls = await run('sftp', [...pw.opts, '-o', 'BatchMode=no', '-P', String(d2.sftpPort), '-b', '-', 'alice@127.0.0.1'], { env: pw.env, input: 'ls docs\n' });
    assert.equal(ls.status, 0, ls.stderr);
    assert.match(ls.stdout, /p\.bin/);
    assert.equal(await stopDaemon(d2), 0);
  });

  test('SIGTERM waits for a running upload to finish, then exits 0', async () => {
    const d = await startDaemon({ env: { SFTPGO_GRACE_TIME: '60' } });
    daemons.push(d);
    const key = await writeKeyPair(d.dir, 'g_ed25519', 'ed25519');
    // 512 KB/s makes a 2 MiB upload last about 4 s: long enough to signal in the middle
    const r = await d.api('POST', '/users', {
      status: 1, username: 'grace', home_dir: join(d.dir, 'homes', 'grace'), public_keys: [key.publicKey],
      permissions: { '/': ['*'] }, upload_bandwidth: 512,
    });
    assert.equal(r.status, 201, JSON.stringify(r.json));
    const payload = randomBytes(2 * 1024 * 1024);
    const local = join(d.dir, 'grace.bin');
    writeFileSync(local, payload);
    const upload = run('sftp', sftpArgs(d, key.privateKeyPath, 'grace'), { input: `put ${local} grace.bin\n`, timeoutMs: 120_000 });
    await until('the upload to start', async () => {
      const c = await d.api<ApiConnection[]>('GET', '/connections');
      return c.json.some((x) => (x.active_transfers ?? []).some((t) => t.size > 0));
    });
    d.proc.kill('SIGTERM');
    const res = await upload;
    assert.equal(res.status, 0, `the client finished its upload: ${res.stderr}`);
    assert.equal(await d.exited, 0);
    assert.equal(sha(readFileSync(join(d.dir, 'homes', 'grace', 'grace.bin'))), sha(payload));
  });

  test('atomic upload mode: a killed client leaves no partial file and no temp file', async () => {
    const d = await startDaemon({ env: { SFTPGO_COMMON__UPLOAD_MODE: '1' } });
    daemons.push(d);
    const key = await writeKeyPair(d.dir, 'k_ed25519', 'ed25519');
    const home = join(d.dir, 'homes', 'killed');
    const r = await d.api('POST', '/users', {
      status: 1, username: 'killed', home_dir: home, public_keys: [key.publicKey], permissions: { '/': ['*'] }, upload_bandwidth: 256,
    });
    assert.equal(r.status, 201, JSON.stringify(r.json));
    const local = join(d.dir, 'big.bin');
    writeFileSync(local, randomBytes(8 * 1024 * 1024));
    // its own process group: sftp and the ssh it runs die together, as when a client machine goes away
    const child = spawn('sftp', sftpArgs(d, key.privateKeyPath, 'killed'), { stdio: ['pipe', 'ignore', 'ignore'], detached: true });
    const childExit = new Promise((res) => child.on('exit', res));
    child.stdin.end(`put ${local} big.bin\n`);
    await until('the upload to be under way', async () => {
      const c = await d.api<ApiConnection[]>('GET', '/connections');
      return c.json.some((x) => (x.active_transfers ?? []).some((t) => t.size > 0));
    });
    mkdirSync(home, { recursive: true });
    assert.ok(readdirSync(home).some((n) => n.startsWith('.sftpgo-upload.')), 'the upload goes to a temp file');
    process.kill(-(child.pid ?? 0), 'SIGKILL');
    await childExit;
    await until('the server to drop the session', async () => (await d.api<ApiConnection[]>('GET', '/connections')).json.length === 0);
    assert.deepEqual(readdirSync(home), [], 'neither the target nor the temp file is left');
    // the daemon writes its log asynchronously: the line may land just after the session is gone
    await until('the failed upload to be logged', async () => d.logLines().some((l) => l.sender === 'Upload' && l.username === 'killed'));
    const log = d.logLines().find((l) => l.sender === 'Upload' && l.username === 'killed');
    assert.ok(log && typeof log.error === 'string' && log.error.length > 0, 'the failed upload is logged with its error');
    assert.equal(await stopDaemon(d), 0);
  });

  test('20 concurrent clients upload and download at once', async () => {
    const d = await startDaemon();
    daemons.push(d);
    const key = await writeKeyPair(d.dir, 'c_ed25519', 'ed25519');
    const r = await d.api('POST', '/users', {
      status: 1, username: 'many', home_dir: join(d.dir, 'homes', 'many'), public_keys: [key.publicKey], permissions: { '/': ['*'] },
    });
    assert.equal(r.status, 201, JSON.stringify(r.json));
    const privateKey = readFileSync(key.privateKeyPath);
    const results = await Promise.all(Array.from({ length: 20 }, async (_, i) => {
      const data = randomBytes(1024 * 1024 + i * 4099);
      const local = join(d.dir, `c${i}.bin`);
      const back = join(d.dir, `c${i}.back`);
      writeFileSync(local, data);
      const { client, sftp } = await connectSftp(d, 'many', privateKey);
      try {
        await new Promise<void>((res, rej) => sftp.fastPut(local, `/c${i}.bin`, (e) => (e ? rej(e) : res())));
        await new Promise<void>((res, rej) => sftp.fastGet(`/c${i}.bin`, back, (e) => (e ? rej(e) : res())));
      } finally {
        client.end();
      }
      return sha(readFileSync(back)) === sha(data);
    }));
    assert.deepEqual(results, Array(20).fill(true));
    const uploads = d.logLines().filter((l) => l.sender === 'Upload' && l.username === 'many' && !l.error);
    assert.equal(uploads.length, 20);
    assert.ok(existsSync(join(d.dir, 'homes', 'many', 'c19.bin')));
    assert.equal(await stopDaemon(d), 0);
  });
});
