/**
 * The daemon with an S3 home whose s3config has a role_arn, as users run
 * it: the user is created over the REST API (role_arn kept and shown back),
 * OpenSSH's sftp uploads and downloads a file; the test STS
 * (test/support/sts-server.ts, reached through AWS_ENDPOINT_URL_STS in the
 * daemon's environment) saw exactly one AssumeRole for the role, signed by
 * the configured keys, and every S3 request (seen by a recording proxy in
 * front of s3rver) was signed with the temporary keys and carried their
 * session token. Then STS refuses: the client gets a failure, the log names
 * STS and the role, and the daemon keeps serving.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { promises as fsp } from 'node:fs';
import path from 'node:path';
import { removeDaemonDir, startDaemon, stopDaemon, until, type Daemon } from '../../support/daemon';
import { startRecordingProxy, type RecordingProxy } from '../../support/recording-http-proxy';
import { startS3rver, type TestS3 } from '../../support/s3rver';
import { writeKeyPair, type TestKeyPair } from '../../support/sshkeys';
import { startSts, type TestSts } from '../../support/sts-server';
import { keyOpts, run } from '../sftpd/openssh';

const ROLE = 'arn:aws:iam::123456789012:role/sftpgo-homes';
const SOURCE_KEY = 'AKIADAEMONSOURCE';
let sts: TestSts;
let s3: TestS3;
let proxy: RecordingProxy;
let daemon: Daemon;
let key: TestKeyPair;

before(async () => {
  sts = await startSts({ sourceAccessKey: SOURCE_KEY, region: 'eu-central-1' });
  s3 = await startS3rver('role-homes', sts.pool.map((c) => [c.accessKeyId, c.secretAccessKey]));
  proxy = await startRecordingProxy(s3.endpoint);
  daemon = await startDaemon({ env: { AWS_ENDPOINT_URL_STS: sts.endpoint } });
  key = await writeKeyPair(daemon.dir, 'role_ed25519', 'ed25519');
});
after(async () => {
  if (daemon) { await stopDaemon(daemon); removeDaemonDir(daemon); }
  await proxy?.stop();
  await s3?.stop();
  await sts?.stop();
});

async function addRoleUser(username: string): Promise<Record<string, unknown>> {
  const r = await daemon.api<Record<string, unknown>>('POST', '/users', {
    username, status: 1, public_keys: [key.publicKey], permissions: { '/': ['*'] }, home_dir: path.join(daemon.dir, 'homes', username),
    filesystem: { provider: 1, s3config: {
      bucket: s3.bucket, region: 'eu-central-1', endpoint: proxy.endpoint, force_path_style: true, key_prefix: `${username}/`,
      access_key: SOURCE_KEY, access_secret: { status: 'Plain', payload: 'daemon-source-secret' }, role_arn: ` ${ROLE} `,
    } },
  });
  assert.equal(r.status, 201, JSON.stringify(r.json));
  return r.json;
}

const sftp = (user: string, input: string): ReturnType<typeof run> =>
  run('sftp', [...keyOpts(key.privateKeyPath), '-P', String(daemon.sftpPort), '-b', '-', `${user}@127.0.0.1`], { input });

test('a home on S3 with role_arn: upload and download over OpenSSH sftp with the assumed role credentials', async () => {
  const created = await addRoleUser('roley');
  const shown = (created.filesystem as { s3config: Record<string, unknown> }).s3config;
  assert.equal(shown.role_arn, ROLE, 'trimmed and kept');
  const payload = randomBytes(3 * 1024 * 1024 + 17);
  const local = path.join(daemon.dir, 'up.bin');
  const back = path.join(daemon.dir, 'back.bin');
  await fsp.writeFile(local, payload);
  const r = await sftp('roley', `put ${local} /up.bin\nget /up.bin ${back}\n`);
  assert.equal(r.status, 0, r.stderr);
  assert.ok((await fsp.readFile(back)).equals(payload));
  assert.deepEqual(sts.calls.map((c) => [c.roleArn, c.signedBy, c.durationSeconds, c.status]), [[ROLE, SOURCE_KEY, 900, 200]]);
  assert.match(sts.calls[0].scope, /^\d{8}\/eu-central-1\/sts\/aws4_request$/);
  const objectRequests = proxy.requests.filter((q) => q.path.includes('/roley/up.bin'));
  assert.ok(objectRequests.some((q) => q.method === 'PUT' || q.method === 'POST') && objectRequests.some((q) => q.method === 'GET'));
  for (const q of proxy.requests) {
    assert.match(String(q.headers.authorization), new RegExp(`Credential=${sts.pool[0].accessKeyId}/`), `${q.method} ${q.path}`);
    assert.equal(q.headers['x-amz-security-token'], sts.pool[0].sessionToken, `${q.method} ${q.path}`);
  }
});

test('STS refusing the role: the sftp client gets a failure, the log names STS and the role, the daemon keeps serving', async () => {
  await addRoleUser('refused');
  sts.refuse = true;
  sts.calls.length = 0;
  proxy.requests.length = 0;
  const local = path.join(daemon.dir, 'small.txt');
  await fsp.writeFile(local, 'refused\n');
  const r = await sftp('refused', `put ${local} /small.txt\n`);
  assert.notEqual(r.status, 0);
  assert.match(r.stderr, /Permission denied/, r.stderr);
  assert.ok(sts.calls.length >= 1 && sts.calls.every((c) => c.roleArn === ROLE && c.status === 403));
  assert.equal(proxy.requests.length, 0, 'no S3 request without credentials');
  // the daemon's log file is written asynchronously by another process
  await until('the refusal in the log', async () => daemon.logLines().some((l) => l.level === 'warn' && l.sender === 's3fs'
    && String(l.message).includes(`sts AssumeRole ${ROLE}: AccessDenied`)), 10_000);
  sts.refuse = false;
  const again = await sftp('roley', 'ls /\n');
  assert.equal(again.status, 0, again.stderr);
  assert.match(again.stdout, /up\.bin/);
});
