/**
 * Resume through the OpenSSH client with upload_mode 2 (atomic, partial file
 * kept on error): a client killed mid-upload leaves the received prefix at the
 * target, `reput` completes it; a download interrupted with Ctrl-C leaves a local
 * prefix, `reget` completes it. Checksums must match. The interrupted
 * transfers run as a throttled user sharing the home of an unthrottled one,
 * so there is time to interrupt them and the resume is quick.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { promises as fsp } from 'node:fs';
import path from 'node:path';
import { keyOpts } from '../sftpd/openssh';
import { assertOk, startEnv, type OpensshEnv } from './helpers';

const sha = (b: Buffer): string => createHash('sha256').update(b).digest('hex');
const SIZE = 8 * 1024 * 1024;

describe('OpenSSH sftp: reput and reget after an interrupted transfer (upload_mode 2)', () => {
  let env: OpensshEnv;
  let home: string;
  const children: ChildProcess[] = [];

  before(async () => {
    env = await startEnv((c) => { c.common.upload_mode = 2; });
    home = env.srv.homeOf('fast');
    await env.srv.createUser({ username: 'fast', public_keys: [env.key.publicKey] });
    await env.srv.createUser({ username: 'slow', home_dir: home, public_keys: [env.key.publicKey], upload_bandwidth: 512, download_bandwidth: 512 });
  });
  after(async () => {
    for (const c of children) if (c.exitCode === null && c.signalCode === null) process.kill(-(c.pid ?? 0), 'SIGKILL');
    await env?.stop();
  });

  /** Re-checks `cond` until true; bounded in time, it waits for the server, never asserts on time. */
  async function until(what: string, cond: () => boolean | Promise<boolean>): Promise<void> {
    const deadline = Date.now() + 30_000;
    while (!(await cond())) {
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
      await new Promise((r) => setTimeout(r, 20));
    }
  }

  const transferred = (kind: 'upload' | 'download'): number => env.srv.ctx.connections.list()
    .filter((c) => c.username === 'slow')
    .flatMap((c) => c.transfers).filter((t) => t.operation_type === kind).reduce((n, t) => n + t.size, 0);

  /**
   * Runs one sftp command as `slow` in its own process group and stops it once
   * `kind` moved 256 KiB: 'kill' SIGKILLs the group (client machine gone),
   * 'interrupt' sends SIGINT to sftp alone (Ctrl-C: OpenSSH stops the transfer
   * and truncates a download at its last contiguous byte, which is what makes
   * a local file resumable: after a SIGKILL its pipelined writes may leave holes).
   */
  async function interrupted(cmd: string, kind: 'upload' | 'download', how: 'kill' | 'interrupt'): Promise<void> {
    const args = ['-P', String(env.srv.port), ...keyOpts(env.key.privateKeyPath), '-b', '-', 'slow@127.0.0.1'];
    // detached: sftp and its ssh die together, as when the client machine goes away
    const child = spawn('sftp', args, { stdio: ['pipe', 'ignore', 'ignore'], detached: true });
    children.push(child);
    child.stdin.on('error', () => undefined);
    const exited = new Promise((r) => child.on('exit', r));
    child.stdin.end(`${cmd}\n`);
    await until(`the ${kind} to be under way`, () => transferred(kind) >= 256 * 1024);
    if (how === 'kill') process.kill(-(child.pid ?? 0), 'SIGKILL');
    else child.kill('SIGINT');
    await exited;
    await until('the server to drop the session', () => !env.srv.ctx.connections.list().some((c) => c.username === 'slow'));
  }

  test('reput completes an upload interrupted by a killed client', async () => {
    const data = randomBytes(SIZE);
    const src = path.join(env.local, 'up.bin');
    await fsp.writeFile(src, data);
    await interrupted(`put ${src} /up.bin`, 'upload', 'kill');
    const partial = await fsp.readFile(path.join(home, 'up.bin'));
    assert.ok(partial.length > 0 && partial.length < SIZE, `a partial file is kept (${partial.length} bytes)`);
    assert.ok(partial.equals(data.subarray(0, partial.length)), 'the partial file is a prefix of the upload');
    assert.deepEqual(await fsp.readdir(home), ['up.bin'], 'no temp file left');
    const log = await env.srv.readLog();
    assert.ok(log.some((l) => l.sender === 'Upload' && l.username === 'slow' && typeof l.error === 'string'), 'the aborted upload is logged');

    assertOk(await env.sftp('fast', `reput ${src} /up.bin`), 'reput');
    assert.equal(sha(await fsp.readFile(path.join(home, 'up.bin'))), sha(data));
    assert.deepEqual(await fsp.readdir(home), ['up.bin']);
  });

  test('reget completes a download interrupted on the client (Ctrl-C)', async () => {
    const data = randomBytes(SIZE);
    await fsp.writeFile(path.join(home, 'down.bin'), data);
    const dst = path.join(env.local, 'down.bin');
    await interrupted(`get /down.bin ${dst}`, 'download', 'interrupt');
    const partial = await fsp.readFile(dst);
    assert.ok(partial.length < SIZE, `the local copy is partial (${partial.length} bytes)`);
    assert.ok(partial.equals(data.subarray(0, partial.length)), 'the local copy is a prefix');
    assertOk(await env.sftp('fast', `reget /down.bin ${dst}`), 'reget');
    assert.equal(sha(await fsp.readFile(dst)), sha(data));
  });
});
