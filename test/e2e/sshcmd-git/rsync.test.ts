import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { existsSync, promises as fsp } from 'node:fs';
import path from 'node:path';
import { writeKeyPair } from '../../support/sshkeys';
import { rsyncClient, snapshot, startSystemCmdServer, type SystemCmdEnv } from './helpers';

describe('sshcmd: rsync over SSH as a jailed virtual user', () => {
  let env: SystemCmdEnv;
  let rsync: ReturnType<typeof rsyncClient>;
  let home: string;
  let canaryDir: string;
  let canaryBefore: Record<string, string>;
  const at = (p: string): string => `alice@127.0.0.1:${p}`;

  before(async () => {
    env = await startSystemCmdServer();
    rsync = rsyncClient(env);
    await env.srv.createUser({ username: 'alice', public_keys: [env.key.publicKey] });
    home = env.srv.homeOf('alice');
    await fsp.mkdir(home, { recursive: true });
    // files outside every home that no command may read or change
    canaryDir = path.join(env.outside, 'canary');
    await fsp.mkdir(canaryDir);
    await fsp.writeFile(path.join(canaryDir, 'canary.txt'), 'outside-canary-91c2');
    canaryBefore = await snapshot(canaryDir);
  });
  after(async () => { await env?.stop(); });

  const local = async (name: string, files: Record<string, string | Buffer>): Promise<string> => {
    const dir = path.join(env.outside, name);
    for (const [f, c] of Object.entries(files)) {
      await fsp.mkdir(path.dirname(path.join(dir, f)), { recursive: true });
      await fsp.writeFile(path.join(dir, f), c);
    }
    return dir;
  };
  const usedQuota = async (): Promise<{ size: number; files: number }> => {
    const u = await env.srv.ctx.provider.getUser('alice');
    return { size: u?.used_quota_size ?? 0, files: u?.used_quota_files ?? 0 };
  };

  test('upload, download and --delete; the used quota is reconciled', async () => {
    const src = await local('src', { 'a.txt': 'alpha\n', 'sub/b.txt': 'bravo\n', 'sub/c.txt': 'charlie\n' });
    // owners and setuid bits from the client never survive on a server running as root
    await fsp.chmod(path.join(src, 'a.txt'), 0o4755);
    if (process.getuid?.() === 0) await fsp.chown(path.join(src, 'a.txt'), 4321, 4321);
    const up = await rsync(['-a', `${src}/`, at('/up/')]);
    assert.equal(up.status, 0, up.stderr);
    assert.deepEqual(await snapshot(path.join(home, 'up')), { 'a.txt': 'alpha\n', 'sub/b.txt': 'bravo\n', 'sub/c.txt': 'charlie\n' });
    assert.deepEqual(await usedQuota(), { size: 6 + 6 + 8, files: 3 });
    const st = await fsp.stat(path.join(home, 'up', 'a.txt'));
    assert.equal(st.mode & 0o6000, 0);
    assert.equal(st.uid, process.getuid?.() ?? st.uid);
    const dl = path.join(env.outside, 'dl');
    const down = await rsync(['-a', at('/up/'), `${dl}/`]);
    assert.equal(down.status, 0, down.stderr);
    assert.deepEqual(await snapshot(dl), await snapshot(src));
    await fsp.rm(path.join(src, 'sub', 'c.txt'));
    const del = await rsync(['-a', '--delete', `${src}/`, at('up/')]);
    assert.equal(del.status, 0, del.stderr);
    assert.equal(existsSync(path.join(home, 'up', 'sub', 'c.txt')), false);
    assert.deepEqual(await usedQuota(), { size: 12, files: 2 });
    const cmds = (await env.srv.readLog()).filter((l) => l.sender === 'SSHCommand' && String(l.ssh_command).startsWith('rsync --server'));
    assert.ok(cmds.length >= 3);
    const uploads = (await env.srv.readLog()).filter((l) => l.sender === 'Upload' && l.username === 'alice' && l.protocol === 'SSH');
    assert.ok(uploads.some((l) => Number(l.size_bytes) > 20), JSON.stringify(uploads[0]));
  });

  test('an interrupted --partial upload resumes from what the server kept', async () => {
    const big = randomBytes(24 * 1024 * 1024);
    const src = await local('bigsrc', { 'big.bin': big });
    // slow the first run so it can be cut after a few MB, whatever the machine's speed
    const child = spawn('rsync', ['-e', env.sshCommand, '--partial', '--progress', '--bwlimit=2000', path.join(src, 'big.bin'), at('/big.bin')],
      { env: { PATH: process.env.PATH, HOME: env.outside }, stdio: ['ignore', 'pipe', 'pipe'] });
    const guard = setTimeout(() => child.kill('SIGKILL'), 120_000);
    await new Promise<void>((resolve) => {
      child.stdout.setEncoding('utf8').on('data', (d: string) => {
        const m = /(\d[\d,]*)\s+\d+%/.exec(d);
        if (m && Number(m[1]!.replace(/,/g, '')) >= 3 * 1024 * 1024) child.kill('SIGKILL');
      });
      child.on('close', () => resolve());
    });
    clearTimeout(guard);
    // the server's rsync notices the closed channel and keeps the partial file under the final name
    const target = path.join(home, 'big.bin');
    let kept = 0;
    for (let i = 0; i < 600 && kept === 0; i++) {
      const names = await fsp.readdir(home);
      const temp = names.some((n) => n.startsWith('.big.bin.'));
      if (!temp && existsSync(target)) kept = (await fsp.stat(target)).size;
      else await new Promise((r) => setTimeout(r, 50));
    }
    assert.ok(kept > 0 && kept < big.length, `partial size ${kept}, home: ${JSON.stringify(await fsp.readdir(home))}`);
    const resumed = await rsync(['--partial', '--stats', path.join(src, 'big.bin'), at('/big.bin')]);
    assert.equal(resumed.status, 0, resumed.stderr);
    const matched = Number(/Matched data: ([\d,]+)/.exec(resumed.stdout)?.[1]?.replace(/,/g, '') ?? '0');
    assert.ok(matched > 0, `nothing reused from the partial file:\n${resumed.stdout}`);
    const sha = (b: Buffer): string => createHash('sha256').update(b).digest('hex');
    assert.equal(sha(await fsp.readFile(target)), sha(big));
  });

  test('escape attempts are refused with nothing read or written outside the root', async () => {
    await fsp.mkdir(path.join(home, 'tree'), { recursive: true });
    await fsp.writeFile(path.join(home, 'tree', 'ok.txt'), 'ok');
    await fsp.symlink(path.join(canaryDir, 'canary.txt'), path.join(home, 'tree', 'link'));
    await fsp.symlink(canaryDir, path.join(home, 'out'));
    const cases: { args: string[]; why: RegExp }[] = [
      { args: ['-a', at('../../canary/'), path.join(env.outside, 'e1')], why: /No such file|error/ },
      { args: ['-a', at(`${canaryDir}/`), path.join(env.outside, 'e2')], why: /No such file|error/ },
      { args: ['-a', at('/out/'), path.join(env.outside, 'e3')], why: /outside the home directory/ },
      { args: ['-a', `${path.join(env.outside, 'src')}/`, at('/out/')], why: /outside the home directory/ },
      { args: ['-a', at('/o*/'), path.join(env.outside, 'e4')], why: /wildcards in the path are not accepted/ },
      { args: ['-aL', at('/tree/'), path.join(env.outside, 'e5')], why: /flags .* are not accepted/ },
      { args: ['-a', '--copy-unsafe-links', at('/tree/'), path.join(env.outside, 'e6')], why: /"--copy-unsafe-links" is not accepted/ },
      { args: ['-a', '--copy-dirlinks', at('/tree/'), path.join(env.outside, 'e7')], why: /not accepted/ },
      { args: ['-a', '--rsync-path=sh -c "cat /etc/passwd" #', at('/tree/'), path.join(env.outside, 'e8')], why: /not supported or not enabled/ },
      { args: ['-a', '--rsync-path=rsync --copy-links', at('/tree/'), path.join(env.outside, 'e9')], why: /only the --server form/ },
    ];
    for (const c of cases) {
      const r = await rsync(c.args);
      assert.notEqual(r.status, 0, `rsync ${c.args.join(' ')} succeeded`);
      assert.match(r.stderr, c.why, c.args.join(' '));
    }
    for (const n of ['e1', 'e2', 'e3', 'e4', 'e5', 'e6', 'e7', 'e8', 'e9']) {
      const d = path.join(env.outside, n);
      if (existsSync(d)) assert.deepEqual(await snapshot(d), {}, `${n} received files`);
    }
    // without -L the link itself travels, never the file it points at
    const plain = path.join(env.outside, 'plain');
    const r = await rsync(['-a', at('/tree/'), `${plain}/`]);
    assert.equal(r.status, 0, r.stderr);
    assert.equal((await fsp.lstat(path.join(plain, 'link'))).isSymbolicLink(), true);
    // an uploaded symlink is stored munged: it cannot lead anywhere
    const withLink = await local('withlink', { 'x.txt': 'x' });
    await fsp.symlink('/etc/passwd', path.join(withLink, 'pw'));
    assert.equal((await rsync(['-a', `${withLink}/`, at('/linked/')])).status, 0);
    assert.match(await fsp.readlink(path.join(home, 'linked', 'pw')), /^\/rsyncd-munged\//);
    // a directory on the server planted as a symlink to outside is not written through
    await fsp.symlink(canaryDir, path.join(home, 'linked', 'sub'));
    const over = await local('over', { 'sub/canary.txt': 'overwritten', 'sub/new.txt': 'new' });
    await rsync(['-a', `${over}/`, at('/linked/')]);
    assert.deepEqual(await snapshot(canaryDir), canaryBefore);
  });

  test('a user without every permission SFTPGo required, or over quota, is refused', async () => {
    const key = await writeKeyPair(env.outside, 'ro_key');
    await env.srv.createUser({ username: 'ro', public_keys: [key.publicKey], permissions: { '/': ['list', 'download', 'upload'] } });
    await env.srv.createUser({ username: 'small', public_keys: [env.key.publicKey], quota_size: 4096 });
    for (const u of ['ro', 'small']) await fsp.mkdir(env.srv.homeOf(u), { recursive: true });
    const asRo = rsyncClient({ ...env, sshCommand: env.sshCommand.replace(env.key.privateKeyPath, key.privateKeyPath) });
    const src = await local('rosrc', { 'f.txt': 'f' });
    const ro = await asRo(['-a', `${src}/`, 'ro@127.0.0.1:/d/']);
    assert.notEqual(ro.status, 0);
    assert.match(ro.stderr, /permission denied/i);
    assert.equal(existsSync(path.join(env.srv.homeOf('ro'), 'd')), false);
    const big = await local('quotasrc', { 'big.bin': randomBytes(256 * 1024) });
    const q = await rsync(['-a', '--whole-file', `${big}/`, 'small@127.0.0.1:/q/']);
    assert.notEqual(q.status, 0);
    assert.match(q.stderr, /quota exceeded/);
    assert.equal(existsSync(path.join(env.srv.homeOf('small'), 'q', 'big.bin')), false);
  });

  test('virtual folders under the path and non-local backends are refused, as SFTPGo did', async () => {
    const mapped = path.join(env.outside, 'mapped');
    await fsp.mkdir(mapped);
    await env.srv.ctx.provider.addFolder({ name: 'vf', mapped_path: mapped });
    await env.srv.createUser({ username: 'withvf', public_keys: [env.key.publicKey],
      virtual_folders: [{ name: 'vf', virtual_path: '/data/vf', quota_size: -1, quota_files: -1 }] });
    await env.srv.createUser({ username: 'enc', public_keys: [env.key.publicKey],
      filesystem: { provider: 4, cryptconfig: { passphrase: { status: 'Plain', payload: 'a-long-passphrase-1234' } } } });
    for (const u of ['withvf', 'enc']) await fsp.mkdir(path.join(env.srv.homeOf(u), 'data'), { recursive: true });
    const src = await local('vfsrc', { 'vf/x.txt': 'x' });
    const over = await rsync(['-a', `${src}/`, 'withvf@127.0.0.1:/data/']);
    assert.notEqual(over.status, 0);
    assert.match(over.stderr, /virtual folders are inside \/data/);
    assert.deepEqual(await snapshot(mapped), {});
    // the folder itself, local, is a root of its own: allowed
    const into = await rsync(['-a', `${path.join(src, 'vf')}/`, 'withvf@127.0.0.1:/data/vf/']);
    assert.equal(into.status, 0, into.stderr);
    assert.deepEqual(await snapshot(mapped), { 'x.txt': 'x' });
    const enc = await rsync(['-a', `${src}/`, 'enc@127.0.0.1:/data/']);
    assert.notEqual(enc.status, 0);
    assert.match(enc.stderr, /not on the local filesystem/);
  });
});
