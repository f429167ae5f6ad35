/**
 * common.resume_max_size through FTP on the object stores (s3rver, azurite,
 * the GCS test server), with real clients: lftp `put -c` (SIZE, REST n,
 * STOR) and curl `-C -` (SIZE, APPE) continue an object up to the limit
 * (S3/Azure rewrite it, GCS composes), the quota counting the file once at
 * its final size; over the limit S3/Azure answer the unsupported reply and
 * keep the object; a REST to another offset than the end is refused.
 * WebDAV and the REST API never resume (a PUT replaces), as in SFTPGo.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { execFile } from 'node:child_process';
import { createConnection } from 'node:net';
import { createInterface } from 'node:readline';
import { promises as fsp } from 'node:fs';
import path from 'node:path';
import { azBlobOptions } from '../../../src/vfs/azblob/config';
import { AzBlobFs } from '../../../src/vfs/azblob/azblobfs';
import { s3Options } from '../../../src/vfs/s3/config';
import { S3Fs } from '../../../src/vfs/s3/s3fs';
import { azblobconfig, startAzurite } from '../../support/azurite';
import { gcsconfig, startGcsServer } from '../../support/gcs-server';
import { s3config, startS3rver } from '../../support/s3rver';
import { directDeps, readerThrough } from '../../support/object-read';
import { lftp, startCross, type CrossEnv } from '../crossproto/env';

const KB = 1024;
const RESUME_MAX = 512 * KB;

interface Row { name: string; user: string; provider: number; configKey: string; composes: boolean }
const ROWS: Row[] = [
  { name: 'S3', user: 'fs3', provider: 1, configKey: 's3config', composes: false },
  { name: 'Azure Blob', user: 'faz', provider: 3, configKey: 'azblobconfig', composes: false },
  { name: 'GCS', user: 'fgcs', provider: 2, configKey: 'gcsconfig', composes: true },
];

type Reader = (key: string) => Promise<Buffer | undefined>;
/** curl against the FTP binding; resolves with its exit code and stderr (curl -w prints the last reply code). */
function curlFtp(args: string[]): Promise<{ code: number; reply: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile('curl', ['-s', '-S', '--max-time', '30', '-w', '%{response_code}', ...args], { timeout: 60_000 }, (err, stdout, stderr) => {
      const code = err ? (typeof (err as { code?: unknown }).code === 'number' ? (err as { code: number }).code : -1) : 0;
      resolve({ code, reply: String(stdout).trim().slice(-3), stderr: String(stderr) });
    });
  });
}

/**
 * A raw FTP dialogue for what no client sends on its own: PASV, then REST n
 * and STOR (REST applies to the next command only). Returns each reply's
 * first line; stops at the first 5xx or after the last command.
 */
async function ftpDialogue(port: number, user: string, password: string, commands: string[]): Promise<string[]> {
  const sock = createConnection({ host: '127.0.0.1', port });
  const lines = createInterface({ input: sock });
  const it = lines[Symbol.asyncIterator]();
  /** the next final reply line ("NNN text"; continuation lines "NNN-" skipped) */
  const reply = async (): Promise<string> => {
    // bounded: the server ends every reply with a final line or closes the socket
    for (;;) {
      const { value, done } = await it.next();
      if (done) throw new Error('control connection closed');
      if (/^\d{3} /.test(value)) return value;
    }
  };
  const replies: string[] = [];
  try {
    await reply();
    for (const cmd of [`USER ${user}`, `PASS ${password}`, ...commands]) {
      sock.write(`${cmd}\r\n`);
      const r = await reply();
      replies.push(r);
      if (r.startsWith('5')) break;
    }
  } finally {
    lines.close();
    sock.destroy();
  }
  return replies;
}

describe('object stores: resume_max_size over FTP (lftp put -c, curl -C -)', () => {
  const stops: (() => Promise<void>)[] = [];
  const readers = new Map<string, Reader>();
  let env: CrossEnv;
  let local: string;
  let previousEmulator: string | undefined;

  before(async () => {
    const s3 = await startS3rver();
    stops.push(() => s3.stop());
    const az = await startAzurite();
    stops.push(() => az.stop());
    const gcs = await startGcsServer();
    stops.push(() => gcs.stop());
    previousEmulator = process.env.STORAGE_EMULATOR_HOST;
    process.env.STORAGE_EMULATOR_HOST = gcs.endpoint;
    readers.set('S3', readerThrough(() => new S3Fs(s3Options(s3config(s3)), directDeps)));
    readers.set('Azure Blob', readerThrough(() => new AzBlobFs(azBlobOptions(azblobconfig(az)), directDeps)));
    readers.set('GCS', async (k) => gcs.objects.get(k)?.data);
    env = await startCross((c) => { c.common.upload_mode = 4 | 8 | 16; c.common.resume_max_size = RESUME_MAX; });
    local = path.join(env.base, 'local');
    await fsp.mkdir(local, { recursive: true });
    const configs: Record<string, (extra: Record<string, unknown>) => Record<string, unknown>> = {
      S3: (extra) => s3config(s3, extra), 'Azure Blob': (extra) => azblobconfig(az, extra), GCS: (extra) => gcsconfig(gcs, extra),
    };
    for (const r of ROWS) {
      await env.addUser({
        username: r.user, password: `${r.user}-pass`, quota_size: 100 * 1024 * KB,
        filesystem: { provider: r.provider, [r.configKey]: configs[r.name]!({ key_prefix: `${r.user}/`, upload_part_size: r.provider === 1 ? 5 : 1 }) },
      });
    }
  });
  after(async () => {
    await env?.close();
    for (const s of stops) await s();
    if (previousEmulator === undefined) delete process.env.STORAGE_EMULATOR_HOST; else process.env.STORAGE_EMULATOR_HOST = previousEmulator;
  });

  const object = (r: Row, k: string): Promise<Buffer | undefined> => readers.get(r.name)!(k);
  const quotaOf = async (user: string): Promise<{ size: number; files: number }> => {
    const u = await env.ctx.provider.getUser(user);
    return { size: u?.used_quota_size ?? -1, files: u?.used_quota_files ?? -1 };
  };
  const ftpUrl = (r: Row, p: string): string => `ftp://${r.user}:${r.user}-pass@127.0.0.1:${env.ftpPort}${p}`;

  for (const r of ROWS) {
    test(`${r.name}: lftp put -c (REST + STOR) continues an object <= resume_max_size; quota counts it once`, async () => {
      const full = randomBytes(300 * KB - 7);
      await fsp.writeFile(path.join(local, `${r.user}.bin`), full);
      // the stored head differs from the local file's: only a real resume keeps it (lftp falls back to a
      // whole upload when REST is refused, which would store the local file as it is)
      const head = randomBytes(100 * KB + 3);
      await fsp.writeFile(path.join(local, `${r.user}-head.bin`), head);
      const expected = Buffer.concat([head, full.subarray(head.length)]);
      const first = await lftp(env.ftpPort, r.user, `${r.user}-pass`, [`put ${r.user}-head.bin -o up.bin`], local);
      assert.equal(first.code, 0, first.stderr);
      const resumed = await lftp(env.ftpPort, r.user, `${r.user}-pass`, [`put -c ${r.user}.bin -o up.bin`], local);
      assert.equal(resumed.code, 0, resumed.stderr);
      assert.ok((await object(r, `${r.user}/up.bin`))?.equals(expected), 'old bytes followed by the new ones');
      assert.deepEqual(await quotaOf(r.user), { size: expected.length, files: 1 });
    });

    test(`${r.name}: curl -C - (APPE) continues it again; a REST elsewhere than the end is refused`, async () => {
      const before = (await object(r, `${r.user}/up.bin`)) as Buffer;
      const more = Buffer.concat([before, randomBytes(3 * KB)]);
      await fsp.writeFile(path.join(local, `${r.user}-more.bin`), more);
      const res = await curlFtp(['-C', '-', '-T', path.join(local, `${r.user}-more.bin`), ftpUrl(r, '/up.bin')]);
      assert.equal(res.code, 0, res.stderr);
      assert.ok((await object(r, `${r.user}/up.bin`))?.equals(more));
      assert.deepEqual(await quotaOf(r.user), { size: more.length, files: 1 });
      // REST 10 + STOR: the storage cannot cut the object there (SFTPGo: seek unsupported), answered before any data
      const cut = await ftpDialogue(env.ftpPort, r.user, `${r.user}-pass`, ['TYPE I', 'PASV', 'REST 10', 'STOR up.bin']);
      assert.match(cut.at(-1) ?? '', /^504 /, cut.join(' | '));
      assert.ok((await object(r, `${r.user}/up.bin`))?.equals(more), 'unchanged');
    });

    test(`${r.name}: an object over resume_max_size ${r.composes ? 'is still continued (compose)' : 'is refused (504) and kept'}`, async () => {
      const big = randomBytes(RESUME_MAX + 1);
      await fsp.writeFile(path.join(local, `${r.user}-big.bin`), big);
      assert.equal((await lftp(env.ftpPort, r.user, `${r.user}-pass`, [`put ${r.user}-big.bin -o big.bin`], local)).code, 0);
      const more = Buffer.concat([big, randomBytes(KB)]);
      await fsp.writeFile(path.join(local, `${r.user}-bigger.bin`), more);
      const res = await curlFtp(['-C', '-', '-T', path.join(local, `${r.user}-bigger.bin`), ftpUrl(r, '/big.bin')]);
      if (r.composes) {
        assert.equal(res.code, 0, res.stderr);
        assert.ok((await object(r, `${r.user}/big.bin`))?.equals(more));
      } else {
        assert.notEqual(res.code, 0);
        assert.equal(res.reply, '504', `${res.reply} ${res.stderr}`);
        assert.ok((await object(r, `${r.user}/big.bin`))?.equals(big), 'unchanged');
      }
    });
  }
});
