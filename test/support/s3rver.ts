/**
 * A real S3-compatible server (s3rver) for tests, on a free loopback port,
 * storing in a temp dir removed at stop. s3rver gaps (see issue 11): no
 * AbortMultipartUpload/ListParts and no part-size checks; those rules are
 * unit-tested against a recording endpoint instead.
 */
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';

export interface TestS3 {
  endpoint: string;
  bucket: string;
  dir: string;
  /** the s3rver process (RSS measurements leave it out of the server's figures) */
  pid: number;
  stop(): Promise<void>;
}

/**
 * s3rver runs in a child process: its continuation tokens use DES, which
 * OpenSSL 3 only offers with the legacy provider (a node flag), and keeping
 * it out of the test process keeps the server's memory figures honest.
 */
const CHILD = `
const S3rver = require(process.argv[1]);
// extra key pairs (temporary credentials a test STS hands out): s3rver checks every signature against its accounts
const account = require(require('path').join(require('path').dirname(process.argv[1]), 'models', 'account'));
for (const [id, secret] of JSON.parse(process.argv[4])) account.DUMMY_ACCOUNT.createKeyPair(id, secret);
const server = new S3rver({ address: '127.0.0.1', port: 0, silent: process.env.S3RVER_DEBUG !== '1', directory: process.argv[2],
  configureBuckets: [{ name: process.argv[3] }] });
server.run().then((a) => process.stdout.write(JSON.stringify({ port: a.port }) + '\\n'), (e) => { console.error(e); process.exit(1); });
process.on('SIGTERM', () => server.close().then(() => process.exit(0)));
`;

const START_TIMEOUT_MS = 30_000;

/** extraKeys: [accessKeyId, secretAccessKey] pairs s3rver accepts besides S3RVER/S3RVER */
export async function startS3rver(bucket = 'test-bucket', extraKeys: [string, string][] = []): Promise<TestS3> {
  const dir = await mkdtemp(join(tmpdir(), 's3rver-'));
  const child = spawn(process.execPath, ['--openssl-legacy-provider', '-e', CHILD, require.resolve('s3rver'), dir, bucket, JSON.stringify(extraKeys)], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const lines = createInterface({ input: child.stdout });
  const timer = setTimeout(() => child.kill('SIGKILL'), START_TIMEOUT_MS);
  try {
    const [first] = await Promise.race([
      once(lines, 'line') as Promise<[string]>,
      once(child, 'exit').then(([code]) => { throw new Error(`s3rver exited with ${String(code)} before listening`); }),
    ]);
    const { port } = JSON.parse(first) as { port: number };
    return {
      endpoint: `http://127.0.0.1:${port}`,
      bucket,
      dir,
      pid: child.pid as number,
      stop: async () => {
        if (child.exitCode === null) {
          const exited = once(child, 'exit');
          child.kill('SIGTERM');
          const killer = setTimeout(() => child.kill('SIGKILL'), 10_000);
          await exited;
          clearTimeout(killer);
        }
        await rm(dir, { recursive: true, force: true });
      },
    };
  } catch (e) {
    child.kill('SIGKILL');
    await rm(dir, { recursive: true, force: true });
    throw e;
  } finally {
    clearTimeout(timer);
  }
}
/** An s3config as SFTPGo's JSON has it, for a test bucket (s3rver accepts the fixed S3RVER keys). */
export function s3config(s3: TestS3, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    bucket: s3.bucket, region: 'us-east-1', endpoint: s3.endpoint, access_key: 'S3RVER',
    access_secret: { status: 'Plain', payload: 'S3RVER' }, force_path_style: true, ...extra,
  };
}
