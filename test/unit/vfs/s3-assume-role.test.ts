/**
 * S3 with role_arn: the backend's credentials come from STS AssumeRole
 * (the test STS, test/support/sts-server.ts, reached through
 * AWS_ENDPOINT_URL_STS as the SDK reads it), signed by the configured keys
 * or, without keys, by the default AWS chain; S3 requests (to s3rver, which
 * knows the temporary keys, through a recording proxy) are signed with the
 * temporary keys and carry the session token; the role is assumed again
 * when the credentials near their expiration (mocked clock, no sleeps); a
 * refusal is a PermissionDenied naming STS and the role.
 */
import { after, afterEach, before, mock, test } from 'node:test';
import assert from 'node:assert/strict';
import { FsError } from '../../../src/common/errors';
import { NO_STORAGE_METRICS } from '../../../src/metrics/storage';
import { ASSUMED_ROLE_DURATION_SECONDS, createS3Client } from '../../../src/vfs/s3/client';
import { s3Options } from '../../../src/vfs/s3/config';
import { S3Fs } from '../../../src/vfs/s3/s3fs';
import { startRecordingProxy, type RecordingProxy } from '../../support/recording-http-proxy';
import { startS3rver, type TestS3 } from '../../support/s3rver';
import { startSts, type TestSts } from '../../support/sts-server';

const ROLE = 'arn:aws:iam::123456789012:role/sftpgo-storage';
const SOURCE_KEY = 'AKIASOURCEKEY';
let s3: TestS3;
let sts: TestSts;
let proxy: RecordingProxy;

before(async () => {
  sts = await startSts({ sourceAccessKey: SOURCE_KEY, region: 'eu-west-1', poolSize: 8 });
  s3 = await startS3rver('role-bucket', sts.pool.map((c) => [c.accessKeyId, c.secretAccessKey]));
  proxy = await startRecordingProxy(s3.endpoint);
  process.env.AWS_ENDPOINT_URL_STS = sts.endpoint;
});
after(async () => {
  delete process.env.AWS_ENDPOINT_URL_STS;
  await proxy.stop();
  await s3.stop();
  await sts.stop();
});
afterEach(() => {
  sts.calls.length = 0; proxy.requests.length = 0; sts.refuse = false; sts.lifetimeMs = undefined;
  mock.timers.reset();
});

function roleConfig(extra: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    bucket: s3.bucket, region: 'eu-west-1', endpoint: proxy.endpoint, force_path_style: true, role_arn: ROLE,
    access_key: SOURCE_KEY, access_secret: { status: 'Plain', payload: 'source-secret' }, ...extra,
  };
}

function backend(cfg: Record<string, unknown>): S3Fs {
  return new S3Fs(s3Options(cfg), { decrypt: async (s) => s.payload ?? '', metrics: NO_STORAGE_METRICS, renameMode: 0, warn: () => undefined });
}

/** The access key id of each S3 request's Authorization header and its x-amz-security-token. */
function s3Signers(): { key: string; token: string | undefined }[] {
  return proxy.requests.map((r) => ({
    key: /Credential=([^/]+)\//.exec(String(r.headers.authorization))?.[1] ?? '',
    token: r.headers['x-amz-security-token'] as string | undefined,
  }));
}

test('role_arn: one AssumeRole signed by the configured keys, S3 requests signed with the temporary keys and their session token', async () => {
  const fs = backend(roleConfig());
  try {
    await fs.mkdir('/dir');
    assert.equal((await fs.stat('/dir')).isDirectory, true);
    assert.deepEqual(sts.calls.map((c) => [c.roleArn, c.signedBy, c.durationSeconds, c.status]),
      [[ROLE, SOURCE_KEY, ASSUMED_ROLE_DURATION_SECONDS, 200]]);
    assert.match(sts.calls[0].scope, /^\d{8}\/eu-west-1\/sts\/aws4_request$/);
    assert.match(sts.calls[0].roleSessionName, /^[\w+=,.@-]{2,64}$/);
    assert.ok(proxy.requests.length >= 2);
    for (const s of s3Signers()) assert.deepEqual(s, { key: sts.pool[0].accessKeyId, token: sts.pool[0].sessionToken });
  } finally {
    await fs.close();
  }
});

test('role_arn: the SDK client exposes the temporary credentials through config.credentials (what own signed requests use)', async () => {
  const client = createS3Client(s3Options(roleConfig()), async (s) => s.payload ?? '');
  try {
    const c = await client.config.credentials();
    assert.equal(c.accessKeyId, sts.pool[0].accessKeyId);
    assert.equal(c.sessionToken, sts.pool[0].sessionToken);
    assert.ok(c.expiration instanceof Date);
    assert.equal(sts.calls.length, 1);
  } finally {
    client.destroy();
  }
});

test('role_arn without keys: the AssumeRole call is signed by the default AWS credential chain (environment)', async () => {
  const saved = { id: process.env.AWS_ACCESS_KEY_ID, secret: process.env.AWS_SECRET_ACCESS_KEY };
  process.env.AWS_ACCESS_KEY_ID = SOURCE_KEY;
  process.env.AWS_SECRET_ACCESS_KEY = 'env-secret';
  const fs = backend(roleConfig({ access_key: undefined, access_secret: undefined }));
  try {
    await fs.mkdir('/from-env');
    assert.deepEqual(sts.calls.map((c) => [c.roleArn, c.signedBy, c.status]), [[ROLE, SOURCE_KEY, 200]]);
    for (const s of s3Signers()) assert.equal(s.token, sts.pool[0].sessionToken);
  } finally {
    await fs.close();
    if (saved.id === undefined) delete process.env.AWS_ACCESS_KEY_ID; else process.env.AWS_ACCESS_KEY_ID = saved.id;
    if (saved.secret === undefined) delete process.env.AWS_SECRET_ACCESS_KEY; else process.env.AWS_SECRET_ACCESS_KEY = saved.secret;
  }
});

test('role_arn: credentials near their expiration are refreshed with a new AssumeRole, then used', async () => {
  mock.timers.enable({ apis: ['Date'], now: Date.now() });
  const fs = backend(roleConfig());
  try {
    await fs.mkdir('/r1');
    await fs.stat('/r1');
    assert.equal(sts.calls.length, 1, 'cached while valid');
    // 15 min credentials; the SDK refreshes them when less than 5 minutes remain
    mock.timers.tick(11 * 60_000);
    proxy.requests.length = 0;
    await fs.stat('/r1');
    assert.deepEqual(sts.calls.map((c) => c.status), [200, 200]);
    assert.ok(proxy.requests.length >= 1);
    for (const s of s3Signers()) assert.deepEqual(s, { key: sts.pool[1].accessKeyId, token: sts.pool[1].sessionToken });
    await fs.stat('/r1');
    assert.equal(sts.calls.length, 2, 'the fresh credentials are cached again');
  } finally {
    await fs.close();
  }
});

test('role_arn: STS refusing is a PermissionDenied naming STS and the role, no S3 request is sent', async () => {
  sts.refuse = true;
  const fs = backend(roleConfig());
  try {
    await assert.rejects(fs.stat('/anything'), (e: unknown) => {
      assert.ok(e instanceof FsError);
      assert.equal(e.kind, 'PermissionDenied');
      assert.match(e.message, /AssumeRole/);
      assert.match(e.message, /sftpgo-storage/);
      assert.match(e.message, /not authorized to perform sts:AssumeRole/);
      return true;
    });
    assert.deepEqual(sts.calls.map((c) => [c.roleArn, c.status]), [[ROLE, 403]], 'a refusal is not retried');
    assert.equal(proxy.requests.length, 0);
  } finally {
    await fs.close();
  }
});
