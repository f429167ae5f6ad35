/**
 * A storage backend that goes away in the middle of a session: a user whose
 * home is on S3 (s3rver), the s3rver process stopped while an OpenSSH sftp
 * session is open. Every protocol gives a clear failure from its one table
 * (FsError kind 'Unavailable'): SFTP a failure status with the message
 * (OpenSSH sftp shows the status, the ssh2 client the message too), FTP 451
 * (lftp), WebDAV 502 (curl PROPFIND/GET/PUT); no client hangs (each
 * run has its own timeout and must end by itself), and the log carries the
 * backend's own error.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { promises as fsp } from 'node:fs';
import path from 'node:path';
import { curl, lftp, startCross, type CrossEnv } from '../crossproto/env';
import { s3config, startS3rver, type TestS3 } from '../../support/s3rver';
import { writeKeyPair, type TestKeyPair } from '../../support/sshkeys';
import { sftpSession } from './ssh2-session';
import { keyOpts } from '../sftpd/openssh';

const USER = 'gone';
const PASSWORD = 'gone-pass-1';
const MESSAGE = 'the storage backend is unavailable';
/** a client still running after this long is hung: it is killed and the test fails */
const CLIENT_LIMIT_MS = 90_000;

describe('a storage backend that stops mid-session', () => {
  let s3: TestS3;
  let env: CrossEnv;
  let s3Stopped = false;
  let key: TestKeyPair;
  const auth = (): string => `${USER}:${PASSWORD}`;

  before(async () => {
    s3 = await startS3rver();
    env = await startCross();
    key = await writeKeyPair(env.base, 'k', 'ed25519');
    await env.addUser({ username: USER, password: PASSWORD, public_keys: [key.publicKey], filesystem: { provider: 1, s3config: s3config(s3, { key_prefix: 'gone/' }) } });
    const put = await curl(['-u', auth(), '-T', '-', `${env.davUrl}/kept.txt`], Buffer.from('still here?\n'));
    assert.equal(put.status, 201, 'the upload works while s3rver runs');
  });
  after(async () => {
    await env?.close();
    if (!s3Stopped) await s3?.stop();
  });

  test('SFTP: sessions open before the stop get a failure status with the message (OpenSSH sftp, ssh2)', async () => {
    const dir = path.join(env.base, 'sftp-client');
    await fsp.mkdir(dir, { recursive: true });
    // sftp -b is batch mode: no password prompt, a key
    const child = spawn('sftp', ['-P', String(env.sftpPort), ...keyOpts(key.privateKeyPath), '-b', '-', `${USER}@127.0.0.1`], { stdio: ['pipe', 'pipe', 'pipe'] });
    const killer = setTimeout(() => child.kill('SIGKILL'), CLIENT_LIMIT_MS);
    let stdout = '';
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => { stderr += d.toString(); });
    const listed = new Promise<void>((resolve) => {
      child.stdout.on('data', (d: Buffer) => {
        stdout += d.toString();
        if (stdout.includes('kept.txt')) resolve();
      });
    });
    const exited = once(child, 'exit') as Promise<[number | null, string | null]>;
    const lib = await sftpSession(env.sftpPort, USER, await fsp.readFile(key.privateKeyPath));
    try {
      child.stdin.write('ls /\n');
      await Promise.race([listed, exited.then(() => { throw new Error(`sftp ended before listing: ${stderr}`); })]);
      // both sessions are open and have used the bucket: now the backend goes away
      await s3.stop();
      s3Stopped = true;
      // OpenSSH prints the status code's own text ("Failure"), never the server's message
      child.stdin.end(`put ${path.join(dir, '..', 'sftpgo.log')} /new.txt\n`);
      const [code, signal] = await exited;
      assert.equal(signal, null, `sftp was killed (hung): ${stderr}`);
      assert.notEqual(code, 0);
      assert.match(stderr, /Failure/, stderr);
      // the ssh2 client shows what the status carries: SSH_FX_FAILURE and the message
      const err = await new Promise<Error & { code?: number }>((res) => lib.sftp.stat('/kept.txt', (e) => res(e as Error & { code?: number })));
      assert.equal(err?.code, 4, String(err));
      assert.equal(err.message, `failure: ${MESSAGE}`);
    } finally {
      clearTimeout(killer);
      child.kill('SIGKILL');
      lib.conn.end();
    }
  });

  test('WebDAV (curl): PROPFIND, GET and PUT answer 502', async () => {
    assert.ok(s3Stopped, 'runs after the SFTP test stopped s3rver');
    const propfind = await curl(['-u', auth(), '-X', 'PROPFIND', '-H', 'Depth: 1', `${env.davUrl}/`]);
    assert.equal(propfind.status, 502, propfind.headers);
    const get = await curl(['-u', auth(), `${env.davUrl}/kept.txt`]);
    assert.equal(get.status, 502, get.headers);
    const put = await curl(['-u', auth(), '-T', '-', `${env.davUrl}/new.txt`], Buffer.from('new\n'));
    assert.equal(put.status, 502, put.headers);
  });

  test('FTP (lftp): LIST and RETR answer 451 with the message; lftp gives up by itself', async () => {
    assert.ok(s3Stopped, 'runs after the SFTP test stopped s3rver');
    const dir = path.join(env.base, 'ftp-client');
    await fsp.mkdir(dir, { recursive: true });
    // debug 3 prints the server's replies ("<--- 451 ..."); a 4xx is transient, lftp retries up to net:max-retries
    const r = await lftp(env.ftpPort, USER, PASSWORD, ['set cmd:fail-exit no', 'debug 3', 'cls -1 /', 'get /kept.txt -o kept.txt'], dir);
    assert.notEqual(r.code, null, 'lftp ended by itself');
    const replies = `${r.stdout}\n${r.stderr}`.split('\n').filter((l) => l.includes('<--- 451'));
    assert.ok(replies.length >= 2, `${r.stdout}\n${r.stderr}`);
    assert.ok(replies.every((l) => l.includes(MESSAGE)), replies.join('\n'));
    assert.match(r.stderr, /max-retries exceeded|451/);
  });

  test('the log names the backend error', async () => {
    const lines = await env.logLines();
    assert.ok(lines.some((l) => /s3 .*(ECONNREFUSED|timed out|connect)/i.test(JSON.stringify(l))),
      JSON.stringify(lines.slice(-5)));
  });
});
