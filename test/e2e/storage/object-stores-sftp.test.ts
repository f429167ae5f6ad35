/**
 * SFTP to users whose storage is an object store, one table row per backend,
 * each against its real test service on a loopback port: S3 (s3rver), Azure
 * Blob (azurite), Google Cloud Storage (the JSON-API test server,
 * test/support/gcs-server.ts, reached through STORAGE_EMULATOR_HOST as the
 * SDK reads it). For each: a home on the store with OpenSSH's sftp (several
 * parts) and the ssh2 client (whose fastPut pipelines writes out of order), a
 * local home with a virtual folder on the store with a subpath and a rename
 * into it (copy + delete, logged as not atomic), the secret sealed on save
 * and hidden on output, resume (S3/Azure; GCS composes), chmod and symlink refused as SSH_FX_OP_UNSUPPORTED,
 * and, where the store's endpoint is configurable, a backend that is down
 * answering a failure with a log line naming the backend's error.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { promises as fsp } from 'node:fs';
import path from 'node:path';
import { toPublicUser, type Secret } from '../../../src/dataprovider/models';
import { directDataCounters } from '../../../src/sftpd/sftp/direct-data';
import { NO_STORAGE_METRICS } from '../../../src/metrics/storage';
import { azBlobOptions } from '../../../src/vfs/azblob/config';
import { AzBlobFs } from '../../../src/vfs/azblob/azblobfs';
import { s3Options } from '../../../src/vfs/s3/config';
import { S3Fs } from '../../../src/vfs/s3/s3fs';
import { ContainerClient, StorageSharedKeyCredential } from '@azure/storage-blob';
import { AZURITE_ACCOUNT, AZURITE_KEY, azblobconfig, startAzurite } from '../../support/azurite';
import { startCountingProxy } from '../../support/counting-proxy';
import { gcsconfig, startGcsServer } from '../../support/gcs-server';
import { freePort } from '../../support/net';
import { s3config, startS3rver } from '../../support/s3rver';
import { startSftpServer, type TestSftpServer } from '../../support/server';
import { writeKeyPair, type TestKeyPair } from '../../support/sshkeys';
import { objectThrough } from '../../support/object-read';
import { sftpSession } from './ssh2-session';
import { keyOpts, run } from '../sftpd/openssh';

const MB = 1024 * 1024;
type ConfigKey = 's3config' | 'azblobconfig' | 'gcsconfig';

/** A running test service and how this test reaches into it. */
interface RunningStore {
  /** the store's config JSON (SFTPGo's names) for a user or folder */
  config(extra: Record<string, unknown>): Record<string, unknown>;
  /** the object's bytes at a key from the bucket root, undefined when there is none */
  object(key: string): Promise<Buffer | undefined>;
  /** a config whose endpoint answers nothing, when the store's endpoint is configurable */
  deadConfig?(port: number): Record<string, unknown>;
  /** stores an object behind the server's back and counts the ranged GETs of a key, where the service lets us */
  media?: { put(key: string, data: Buffer): Promise<void>; gets(key: string): number };
  stop(): Promise<void>;
}

interface StoreCase {
  name: string;
  provider: number;
  configKey: ConfigKey;
  /** Fs.name, as the cross-mount rename log line gives it */
  storage: string;
  /** the secret field of the config and its plain value as the service knows it */
  secretField: string;
  secretPlain: (stored: string) => void;
  /** upload_part_size (MiB) and upload_concurrency for the home: several parts per put */
  partSize: number;
  putBytes: number;
  fastBytes: number;
  /** prefix of the backend's own log messages ("s3 list ...") */
  logTag: string;
  /** the endpoint is part of the config (GCS takes it from the process environment: no per-user dead endpoint) */
  endpointInConfig: boolean;
  start(): Promise<RunningStore>;
}

const fsDeps = { decrypt: async (s: Secret) => s.payload ?? '', metrics: NO_STORAGE_METRICS, renameMode: 1, warn: () => undefined };

const CASES: StoreCase[] = [
  {
    name: 'S3', provider: 1, configKey: 's3config', storage: 's3fs', secretField: 'access_secret',
    secretPlain: (plain) => assert.equal(plain, 'S3RVER'), partSize: 5, putBytes: 12 * MB + 77, fastBytes: 7 * MB + 5, logTag: 's3 ', endpointInConfig: true,
    start: async () => {
      const s3 = await startS3rver();
      return {
        config: (extra) => s3config(s3, extra),
        object: (key) => objectThrough(new S3Fs(s3Options(s3config(s3)), fsDeps), key),
        deadConfig: (port) => ({ ...s3config(s3), endpoint: `http://127.0.0.1:${port}` }),
        stop: () => s3.stop(),
      };
    },
  },
  {
    name: 'Azure Blob', provider: 3, configKey: 'azblobconfig', storage: 'azblobfs', secretField: 'account_key',
    secretPlain: (plain) => assert.equal(plain, AZURITE_KEY), partSize: 1, putBytes: 5 * MB + 77, fastBytes: 3 * MB + 5, logTag: 'azblob ', endpointInConfig: true,
    start: async () => {
      const az = await startAzurite();
      // the users reach azurite through a proxy that counts their requests
      const proxy = await startCountingProxy(az.endpoint);
      const raw = new ContainerClient(`${az.endpoint}/${AZURITE_ACCOUNT}/${az.container}`, new StorageSharedKeyCredential(AZURITE_ACCOUNT, AZURITE_KEY));
      return {
        config: (extra) => azblobconfig(az, { endpoint: proxy.endpoint, ...extra }),
        object: (key) => objectThrough(new AzBlobFs(azBlobOptions(azblobconfig(az)), fsDeps), key),
        deadConfig: (port) => azblobconfig(az, { endpoint: `http://127.0.0.1:${port}` }),
        media: {
          put: async (key, data) => { await raw.getBlockBlobClient(key).uploadData(data, { blockSize: 8 * MB }); },
          gets: (key) => proxy.requests.filter((r) => r.method === 'GET' && r.path.split('?')[0] === `/${AZURITE_ACCOUNT}/${az.container}/${key}`).length,
        },
        stop: async () => {
          await proxy.stop();
          await az.stop();
        },
      };
    },
  },
  {
    name: 'Google Cloud Storage', provider: 2, configKey: 'gcsconfig', storage: 'gcsfs', secretField: 'credentials',
    secretPlain: (plain) => assert.match(plain, /service_account/), partSize: 1, putBytes: 3 * MB + 77, fastBytes: 3 * MB + 5, logTag: 'gcs ', endpointInConfig: false,
    start: async () => {
      const gcs = await startGcsServer();
      // the SDK reads its endpoint from the environment: set for this row only
      const previous = process.env.STORAGE_EMULATOR_HOST;
      process.env.STORAGE_EMULATOR_HOST = gcs.endpoint;
      return {
        config: (extra) => gcsconfig(gcs, extra),
        object: async (key) => gcs.objects.get(key)?.data,
        media: {
          put: async (key, data) => {
            gcs.objects.set(key, { data, contentType: 'application/octet-stream', updated: new Date(), generation: 1_000_000 + gcs.mediaGets.length });
          },
          gets: (key) => gcs.mediaGets.filter((g) => g.name === key).length,
        },
        stop: async () => {
          if (previous === undefined) delete process.env.STORAGE_EMULATOR_HOST; else process.env.STORAGE_EMULATOR_HOST = previous;
          await gcs.stop();
        },
      };
    },
  },
];

type SftpError = Error & { code?: number };

for (const c of CASES) {
  describe(`${c.name} storage over SFTP`, () => {
    let store: RunningStore;
    let srv: TestSftpServer;
    let key: TestKeyPair;
    const fs = (config: Record<string, unknown>) => ({ provider: c.provider, [c.configKey]: config });

    before(async () => {
      store = await c.start();
      srv = await startSftpServer({ configure: (cfg) => { cfg.common.rename_mode = 1; } });
      key = await writeKeyPair(srv.configDir, 'k', 'ed25519');
      await srv.createUser({
        username: 'cloud', public_keys: [key.publicKey],
        filesystem: fs(store.config({ key_prefix: 'users/cloud/', upload_part_size: c.partSize, upload_concurrency: 2 })),
      });
      await srv.ctx.provider.addFolder({ name: 'storefolder', filesystem: fs(store.config({ key_prefix: 'shared/' })) });
      await srv.createUser({
        username: 'mixed', public_keys: [key.publicKey],
        virtual_folders: [{ name: 'storefolder', virtual_path: '/store', subpath: '/team', quota_size: 0, quota_files: 0 }],
      });
    });
    after(async () => {
      await srv?.stop();
      await store?.stop();
    });

    const sftpBatch = (user: string, batch: string) =>
      run('sftp', ['-P', String(srv.port), ...keyOpts(key.privateKeyPath), '-b', '-', `${user}@127.0.0.1`], { input: batch });

    test(`the ${c.secretField} is sealed with the kms on save and hidden on output`, async () => {
      const u = await srv.ctx.provider.getUser('cloud');
      const config = u?.filesystem?.[c.configKey] as Record<string, unknown> | undefined;
      const stored = config?.[c.secretField] as Secret;
      assert.equal(stored.status, 'Secretbox');
      const plain = await srv.ctx.kms.decrypt(stored);
      c.secretPlain(plain);
      assert.ok(!(stored.payload ?? '').includes(plain));
      const shown = (toPublicUser(u!).filesystem?.[c.configKey] as Record<string, unknown>)[c.secretField] as Secret;
      assert.deepEqual(Object.keys(shown).sort(), ['payload', 'status']);
      assert.notEqual(shown.payload, plain);
      // the S3 access key is public and equals s3rver's secret: look for the secret as a payload
      assert.ok(!JSON.stringify(toPublicUser(u!)).includes(`"payload":${JSON.stringify(plain)}`));
    });

    test('OpenSSH sftp: mkdir, put (several parts), ls, get, rename, rm', async () => {
      const local = path.join(srv.configDir, 'local');
      await fsp.mkdir(local, { recursive: true });
      const data = randomBytes(c.putBytes);
      await fsp.writeFile(path.join(local, 'up.bin'), data);
      const directBefore = directDataCounters.direct;
      const r = await sftpBatch('cloud', [
        'mkdir /dir', `put ${path.join(local, 'up.bin')} /dir/up.bin`, 'ls -l /dir',
        `get /dir/up.bin ${path.join(local, 'back.bin')}`, 'rename /dir/up.bin /dir/moved.bin', 'ls /dir',
      ].join('\n'));
      assert.equal(r.status, 0, r.stderr);
      assert.match(r.stdout, /moved\.bin/);
      assert.ok((await fsp.readFile(path.join(local, 'back.bin'))).equals(data));
      // the windowed reader's readvAt: READ replies copied from the windows into the SSH packets that carry them
      assert.ok(directDataCounters.direct > directBefore, 'READ replies sent from the packets the windows were read into');
      // the object really is in the store under the user's key prefix, and only under its new name
      assert.ok((await store.object('users/cloud/dir/moved.bin'))?.equals(data));
      assert.equal(await store.object('users/cloud/dir/up.bin'), undefined);
      const rm = await sftpBatch('cloud', 'rm /dir/moved.bin\nrmdir /dir');
      assert.equal(rm.status, 0, rm.stderr);
      assert.equal(await store.object('users/cloud/dir/moved.bin'), undefined);
      const gone = await sftpBatch('cloud', 'ls /dir');
      assert.notEqual(gone.status, 0, 'the directory is gone');
    });

    test('ssh2 fastPut (out of order pipelined writes) and fastGet round trip; resume, chmod and symlink are OP_UNSUPPORTED', async () => {
      const local = path.join(srv.configDir, 'fast');
      await fsp.mkdir(local, { recursive: true });
      const data = randomBytes(c.fastBytes);
      await fsp.writeFile(path.join(local, 'in.bin'), data);
      const { conn, sftp } = await sftpSession(srv.port, 'cloud', await fsp.readFile(key.privateKeyPath));
      try {
        await new Promise<void>((res, rej) => sftp.fastPut(path.join(local, 'in.bin'), '/fast.bin', { concurrency: 16, chunkSize: 32768 }, (e) => (e ? rej(e) : res())));
        await new Promise<void>((res, rej) => sftp.fastGet('/fast.bin', path.join(local, 'out.bin'), { concurrency: 8 }, (e) => (e ? rej(e) : res())));
        assert.ok((await fsp.readFile(path.join(local, 'out.bin'))).equals(data));
        // an existing file opened for append (resume): S3 and Azure only rewrite objects up to
        // common.resume_max_size (0 here), GCS composes at any size (SFTPGo's rules)
        const err = await new Promise<SftpError | undefined>((res) => sftp.open('/fast.bin', 'a', (e, h) => {
          if (e) res(e as SftpError); else sftp.close(h, () => res(undefined));
        }));
        if (c.provider === 2) assert.equal(err, undefined, 'GCS resumes by compose');
        else assert.equal(err?.code, 8, 'SSH_FX_OP_UNSUPPORTED');
        const attrsErr = await new Promise<SftpError>((res) => sftp.setstat('/fast.bin', { mode: 0o600 }, (e) => res(e as SftpError)));
        assert.equal(attrsErr?.code, 8, `chmod is OP_UNSUPPORTED on ${c.name}`);
        const linkErr = await new Promise<SftpError>((res) => sftp.symlink('/fast.bin', '/fast.link', (e) => res(e as SftpError)));
        assert.equal(linkErr?.code, 8, `symlink is OP_UNSUPPORTED on ${c.name} (not "permission denied")`);
      } finally {
        conn.end();
      }
    });

    test('OpenSSH sftp get of a multi-window object: byte exact, one ranged GET per sequential run', { skip: c.provider === 1 && 'S3 runs are counted in test/unit/vfs/streamed-run.test.ts' }, async () => {
      const media = store.media;
      assert.ok(media, 'the row counts its GETs');
      const local = path.join(srv.configDir, 'runs');
      await fsp.mkdir(local, { recursive: true });
      // 5 MiB windows (GCS's, Azure's default download_part_size): 7 windows, 7 GETs before
      const data = randomBytes(33 * MB + 4321);
      await media.put('users/cloud/multi.bin', data);
      const r = await sftpBatch('cloud', `get /multi.bin ${path.join(local, 'multi.bin')}`);
      assert.equal(r.status, 0, r.stderr);
      assert.ok((await fsp.readFile(path.join(local, 'multi.bin'))).equals(data), 'the download is byte exact');
      const gets = media.gets('users/cloud/multi.bin');
      assert.ok(gets >= 1 && gets <= 2, `${gets} GETs for 7 windows`);
    });

    test('a virtual folder with a subpath: objects land under key_prefix + subpath; a rename into it is copy + delete', async () => {
      const local = path.join(srv.configDir, 'vf');
      await fsp.mkdir(local, { recursive: true });
      await fsp.writeFile(path.join(local, 'note.txt'), 'in the team subpath\n');
      const r = await sftpBatch('mixed', `put ${path.join(local, 'note.txt')} /store/note.txt\nls /store\nput ${path.join(local, 'note.txt')} /home.txt`);
      assert.equal(r.status, 0, r.stderr);
      assert.equal((await store.object('shared/team/note.txt'))?.toString(), 'in the team subpath\n');
      const mv = await sftpBatch('mixed', 'rename /home.txt /store/moved.txt');
      assert.equal(mv.status, 0, mv.stderr);
      await assert.rejects(fsp.stat(path.join(srv.homeOf('mixed'), 'home.txt')));
      assert.equal((await store.object('shared/team/moved.txt'))?.toString(), 'in the team subpath\n');
      assert.ok((await srv.readLog()).some((l) => l.message === 'rename across mounts done as copy + delete: not atomic' && l.target_storage === c.storage));
    });

    test('a backend that is down: the client gets a failure, the log names the backend error', { skip: !c.endpointInConfig && 'the endpoint comes from the environment, shared by the process' }, async () => {
      const deadPort = await freePort();
      const dead = store.deadConfig?.(deadPort);
      assert.ok(dead, 'a store with its endpoint in the config gives a dead one');
      await srv.createUser({ username: 'down', public_keys: [key.publicKey], filesystem: fs(dead) });
      const r = await sftpBatch('down', 'ls /dir\nput /etc/hostname /x');
      assert.notEqual(r.status, 0);
      const log = await srv.readLog();
      assert.ok(log.some((l) => JSON.stringify(l).includes(c.logTag) && JSON.stringify(l).includes('down')),
        `a log line with the ${c.name} error for the user: ${JSON.stringify(log.filter((l) => JSON.stringify(l).includes('down')).slice(-5))}\n${r.stdout}\n${r.stderr}`);
    });
  });
}
