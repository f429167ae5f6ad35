import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, promises as fsp } from 'node:fs';
import path from 'node:path';
import { dirUsage } from '../../../src/common/quota-scan';
import { writeKeyPair } from '../../support/sshkeys';
import { gitClient, run, startSystemCmdServer, type SystemCmdEnv } from './helpers';

describe('sshcmd: git over SSH as a jailed virtual user', () => {
  let env: SystemCmdEnv;
  let git: ReturnType<typeof gitClient>;
  let url: (user: string, p: string) => string;
  let carolRepo: string;
  const SECRET = 'carol-secret-content-7f3a';

  const initBare = async (dir: string): Promise<void> => {
    const r = await run('git', ['init', '-q', '--bare', '-b', 'main', dir], { env: { PATH: process.env.PATH, HOME: env.outside } });
    assert.equal(r.status, 0, r.stderr);
  };

  before(async () => {
    env = await startSystemCmdServer();
    const { srv } = env;
    url = (user, p) => `ssh://${user}@127.0.0.1:${srv.port}${p}`;
    git = gitClient(env, env.outside);
    const bobKey = await writeKeyPair(env.outside, 'bob_key');
    await srv.createUser({ username: 'alice', public_keys: [env.key.publicKey] });
    await srv.createUser({ username: 'bob', public_keys: [bobKey.publicKey], permissions: { '/': ['list', 'download'] } });
    await srv.createUser({ username: 'carol', password: 'carol-pw-123' });
    await srv.createUser({ username: 'dave', public_keys: [env.key.publicKey],
      filters: { file_patterns: [{ path: '/', denied_patterns: ['*.exe'] }] } });
    await srv.createUser({ username: 'erin', public_keys: [env.key.publicKey], permissions: { '/': ['*'], '/repo.git/refs': ['list', 'download'] } });
    for (const u of ['alice', 'bob', 'carol', 'dave', 'erin']) await fsp.mkdir(srv.homeOf(u), { recursive: true });
    await initBare(path.join(srv.homeOf('alice'), 'repo.git'));
    // carol's private repository, with one commit holding a secret
    carolRepo = path.join(srv.homeOf('carol'), 'private.git');
    const seed = path.join(env.outside, 'seed');
    await run('git', ['init', '-q', '-b', 'main', seed], { env: { PATH: process.env.PATH, HOME: env.outside } });
    await fsp.writeFile(path.join(seed, 'secret.txt'), SECRET);
    assert.equal((await git(['add', 'secret.txt'], seed)).status, 0);
    assert.equal((await git(['commit', '-q', '-m', 'secret'], seed)).status, 0);
    assert.equal((await run('git', ['clone', '-q', '--bare', seed, carolRepo], { env: { PATH: process.env.PATH, HOME: env.outside } })).status, 0);
    await fsp.rm(seed, { recursive: true, force: true });
  });
  after(async () => { await env?.stop(); });

  test('clone, push, fetch and archive --remote work; hooks never run', async () => {
    const repoDir = path.join(env.srv.homeOf('alice'), 'repo.git');
    const canary = path.join(env.outside, 'hook-ran');
    for (const hook of ['pre-receive', 'update', 'post-receive', 'post-update']) {
      await fsp.writeFile(path.join(repoDir, 'hooks', hook), `#!/bin/sh\ntouch ${canary}\n`, { mode: 0o755 });
    }
    const sizeBefore = (await dirUsage(repoDir)).size;
    const work = path.join(env.outside, 'work');
    // "/repo" finds "/repo.git" as git does
    const clone = await git(['clone', '-q', url('alice', '/repo'), work]);
    assert.equal(clone.status, 0, clone.stderr);
    await fsp.writeFile(path.join(work, 'README.md'), '# hello\n');
    assert.equal((await git(['add', 'README.md'], work)).status, 0);
    assert.equal((await git(['commit', '-q', '-m', 'first'], work)).status, 0);
    const push = await git(['push', '-q', 'origin', 'HEAD:main'], work);
    assert.equal(push.status, 0, push.stderr);
    assert.equal(existsSync(canary), false, 'a repository hook ran on the server');
    const log = await run('git', ['--git-dir', repoDir, 'log', '--format=%s', 'main'], { env: { PATH: process.env.PATH, HOME: env.outside } });
    assert.equal(log.stdout.trim(), 'first');

    // the pushed objects were counted: a rescan of the repository after the command, as SFTPGo did
    const used = (await env.srv.ctx.provider.getUser('alice'))?.used_quota_size ?? 0;
    assert.equal(used, (await dirUsage(repoDir)).size - sizeBefore);
    assert.ok(used > 0);
    const second = path.join(env.outside, 'second');
    assert.equal((await git(['clone', '-q', url('alice', '/repo.git'), second])).status, 0);
    await fsp.writeFile(path.join(work, 'b.txt'), 'two\n');
    assert.equal((await git(['add', 'b.txt'], work)).status, 0);
    assert.equal((await git(['commit', '-q', '-m', 'second'], work)).status, 0);
    assert.equal((await git(['push', '-q', 'origin', 'HEAD:main'], work)).status, 0);
    const fetch = await git(['fetch', '-q', 'origin'], second);
    assert.equal(fetch.status, 0, fetch.stderr);
    assert.equal((await git(['log', '--format=%s', 'origin/main'], second)).stdout, 'second\nfirst\n');

    const archive = await git(['archive', `--remote=${url('alice', '/repo.git')}`, '--format=tar', '-o', path.join(env.outside, 'a.tar'), 'main']);
    assert.equal(archive.status, 0, archive.stderr);
    const list = await run('tar', ['tf', path.join(env.outside, 'a.tar')]);
    assert.deepEqual(list.stdout.split('\n').filter(Boolean).sort(), ['README.md', 'b.txt']);
    const cmdLog = (await env.srv.readLog()).filter((l) => l.sender === 'SSHCommand');
    assert.ok(cmdLog.some((l) => String(l.ssh_command).startsWith('git-receive-pack') && l.username === 'alice'));
    assert.ok(cmdLog.some((l) => String(l.ssh_command).startsWith('git-upload-archive')));
  });

  const refusedClone = async (user: string, p: string, why: RegExp): Promise<void> => {
    const dest = path.join(env.outside, `refused-${Math.random().toString(36).slice(2)}`);
    const r = await git(['clone', '-q', url(user, p), dest]);
    assert.notEqual(r.status, 0, `clone of ${p} as ${user} succeeded`);
    assert.match(r.stderr, why);
    // a failed clone leaves nothing behind: no object of carol's reached the client
    assert.equal(existsSync(dest), false);
    const grep = await run('grep', ['-rl', SECRET, env.outside]);
    assert.equal(grep.stdout, '', 'the secret reached the client');
  };

  test('alternates pointing at another user\'s home are refused', async () => {
    const evil = path.join(env.srv.homeOf('alice'), 'evil.git');
    await initBare(evil);
    await fsp.writeFile(path.join(evil, 'objects', 'info', 'alternates'), `${path.join(carolRepo, 'objects')}\n`);
    await fsp.copyFile(path.join(carolRepo, 'packed-refs'), path.join(evil, 'packed-refs')).catch(() => undefined);
    await refusedClone('alice', '/evil.git', /objects\/info\/alternates is not allowed/);
  });

  test('symlinks leading out, "..", absolute paths and a dangerous repository config are refused', async () => {
    const home = env.srv.homeOf('alice');
    await fsp.symlink(carolRepo, path.join(home, 'link.git'));
    await refusedClone('alice', '/link.git', /outside the home directory/);
    // a repository whose refs directory is a symlink into carol's repository
    const inner = path.join(home, 'inner.git');
    await initBare(inner);
    await fsp.rm(path.join(inner, 'refs'), { recursive: true });
    await fsp.symlink(path.join(carolRepo, 'refs'), path.join(inner, 'refs'));
    await refusedClone('alice', '/inner.git', /symlink leading outside/);
    await refusedClone('alice', '/../carol/private.git', /not a git repository/);
    await refusedClone('alice', carolRepo, /not a git repository/);
    const filtered = path.join(home, 'filter.git');
    await initBare(filtered);
    await fsp.appendFile(path.join(filtered, 'config'), `[filter "x"]\n\tsmudge = touch ${path.join(env.outside, 'filter-ran')}\n`);
    await refusedClone('alice', '/filter.git', /config key "filter\.x\.smudge" is not allowed/);
    assert.equal(existsSync(path.join(env.outside, 'filter-ran')), false);
  });

  test('missing permissions and file-pattern filters refuse git as SFTPGo did', async () => {
    await initBare(path.join(env.srv.homeOf('bob'), 'repo.git'));
    const bobKey = path.join(env.outside, 'bob_key');
    const asBob = gitClient({ ...env, sshCommand: env.sshCommand.replace(env.key.privateKeyPath, bobKey) }, env.outside);
    const r = await asBob(['clone', '-q', url('bob', '/repo.git'), path.join(env.outside, 'bob-clone')]);
    assert.notEqual(r.status, 0);
    assert.match(r.stderr, /permission denied/i);
    await initBare(path.join(env.srv.homeOf('dave'), 'repo.git'));
    await refusedClone('dave', '/repo.git', /file patterns/);
    // a subdirectory with fewer permissions makes the recursive check fail
    await initBare(path.join(env.srv.homeOf('erin'), 'repo.git'));
    await refusedClone('erin', '/repo.git', /permission denied/i);
  });
  test('protocol v2: GIT_PROTOCOL from the SSH env request reaches git (clone and fetch), v0 when the client asks for it', async () => {
    const traced = (version: number, args: string[], cwd?: string) => run('git', [...(cwd ? ['-C', cwd] : []), '-c', `protocol.version=${version}`, ...args], {
      env: { PATH: process.env.PATH, HOME: env.outside, GIT_SSH_COMMAND: env.sshCommand, GIT_CONFIG_NOSYSTEM: '1', GIT_TERMINAL_PROMPT: '0', GIT_TRACE_PACKET: '1' },
      timeoutMs: 120_000,
    });
    // the server's first pkt-line: "version 2" only when upload-pack got GIT_PROTOCOL=version=2
    const spokeV2 = (stderr: string): boolean => /packet: +[a-z-]+< version 2\b/.test(stderr);
    const v2 = path.join(env.outside, 'v2-clone');
    const clone = await traced(2, ['clone', url('alice', '/repo.git'), v2]);
    assert.equal(clone.status, 0, clone.stderr);
    assert.ok(spokeV2(clone.stderr), `clone did not use protocol v2: ${clone.stderr.slice(0, 1500)}`);
    const fetch = await traced(2, ['fetch', 'origin'], v2);
    assert.equal(fetch.status, 0, fetch.stderr);
    assert.ok(spokeV2(fetch.stderr), 'fetch did not use protocol v2');
    const v0 = await traced(0, ['clone', url('alice', '/repo.git'), path.join(env.outside, 'v0-clone')]);
    assert.equal(v0.status, 0, v0.stderr);
    assert.equal(spokeV2(v0.stderr), false);
  });
});
