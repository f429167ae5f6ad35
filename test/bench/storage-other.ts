/**
 * Download measurement for the other object stores: an OpenSSH sftp get of
 * one object (256 MiB by default, STORAGE_BENCH_MB) through the real daemon
 * from a home on Azure Blob (azurite, telemetry off, its own process) or
 * Google Cloud Storage (the JSON-API test server, in this process: its CPU is
 * this process's). The object is stored behind the daemon's back (no upload
 * measured). Per download: the daemon's CPU seconds from /proc, MiB/s, its
 * RSS growth (sampled every 100 ms), the store's CPU seconds, the media GETs
 * the store saw, content checked.
 *   STORAGE_BENCH_BACKEND=azure|gcs node dist/test/bench/storage-other.js
 * STORAGE_BENCH_ROUNDS (default 3): round 1 is a fresh daemon.
 * Azure GETs are counted through a proxy only with STORAGE_BENCH_COUNT=1
 * (the proxy costs CPU on this machine's two cores).
 */
import { createHash, randomBytes } from 'node:crypto';
import { createReadStream, promises as fsp } from 'node:fs';
import { join } from 'node:path';
import { ContainerClient, StorageSharedKeyCredential } from '@azure/storage-blob';
import { removeDaemonDir, startDaemon, stopDaemon } from '../support/daemon';
import { AZURITE_ACCOUNT, AZURITE_KEY, azblobconfig, startAzurite, type TestAzurite } from '../support/azurite';
import { startCountingProxy, type CountingProxy } from '../support/counting-proxy';
import { gcsconfig, startGcsServer, type TestGcs } from '../support/gcs-server';
import { writeKeyPair } from '../support/sshkeys';
import { keyOpts, run } from '../e2e/sftpd/openssh';
import { counterDelta, procCounters } from './util';

const MB = 1024 * 1024;
const BACKEND = process.env.STORAGE_BENCH_BACKEND ?? 'azure';
const ROUNDS = Math.max(1, Number(process.env.STORAGE_BENCH_ROUNDS ?? '3'));
const SIZE_MB = Number(process.env.STORAGE_BENCH_MB ?? '256');
const TICKS_PER_S = 100;
const KEY = 'bench/big.bin';

async function rssKiB(pid: number): Promise<number> {
  const status = await fsp.readFile(`/proc/${pid}/status`, 'utf8');
  return Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? 0);
}

async function sha256(file: string): Promise<string> {
  const h = createHash('sha256');
  for await (const c of createReadStream(file)) h.update(c as Buffer);
  return h.digest('hex');
}

interface Store {
  filesystem: Record<string, unknown>;
  env: Record<string, string>;
  /** CPU seconds the store has used so far */
  cpu(): number;
  gets(): number | undefined;
  stop(): Promise<void>;
}

async function azureStore(data: Buffer): Promise<Store> {
  const az: TestAzurite = await startAzurite();
  const proxy: CountingProxy | undefined = process.env.STORAGE_BENCH_COUNT === '1' ? await startCountingProxy(az.endpoint) : undefined;
  const raw = new ContainerClient(`${az.endpoint}/${AZURITE_ACCOUNT}/${az.container}`, new StorageSharedKeyCredential(AZURITE_ACCOUNT, AZURITE_KEY));
  await raw.getBlockBlobClient(KEY).uploadData(data, { blockSize: 8 * MB });
  return {
    filesystem: { provider: 3, azblobconfig: azblobconfig(az, { key_prefix: 'bench/', ...(proxy ? { endpoint: proxy.endpoint } : {}) }) },
    env: {},
    cpu: () => procCounters(az.pid).cpuTicks / TICKS_PER_S,
    gets: () => proxy?.requests.filter((r) => r.method === 'GET' && r.path.split('?')[0].endsWith(`/${KEY}`)).length,
    stop: async () => { await proxy?.stop(); await az.stop(); },
  };
}

async function gcsStore(data: Buffer): Promise<Store> {
  const gcs: TestGcs = await startGcsServer();
  gcs.objects.set(KEY, { data, contentType: 'application/octet-stream', updated: new Date(), generation: 42 });
  return {
    filesystem: { provider: 2, gcsconfig: gcsconfig(gcs, { key_prefix: 'bench/' }) },
    // the SDK in the daemon reads its endpoint from the environment
    env: { STORAGE_EMULATOR_HOST: gcs.endpoint },
    cpu: () => { const u = process.cpuUsage(); return (u.user + u.system) / 1e6; },
    gets: () => gcs.mediaGets.filter((g) => g.name === KEY).length,
    stop: () => gcs.stop(),
  };
}

async function main(): Promise<void> {
  const data = randomBytes(SIZE_MB * MB);
  const sum = createHash('sha256').update(data).digest('hex');
  const store = BACKEND === 'gcs' ? await gcsStore(data) : await azureStore(data);
  const d = await startDaemon({ env: store.env });
  try {
    const key = await writeKeyPair(d.dir, 'bench', 'ed25519');
    const created = await d.api('POST', '/users', {
      username: 'bench', status: 1, home_dir: join(d.dir, 'home'), permissions: { '/': ['*'] }, public_keys: [key.publicKey],
      filesystem: store.filesystem,
    });
    if (created.status !== 201) throw new Error(`user not created: ${created.status} ${JSON.stringify(created.json)}`);
    const pid = d.proc.pid as number;
    const back = join(d.dir, 'back.bin');
    for (let round = 1; round <= ROUNDS; round++) {
      await fsp.rm(back, { force: true });
      const gets0 = store.gets();
      const cpu0 = procCounters(pid);
      const store0 = store.cpu();
      const rss0 = await rssKiB(pid);
      let peak = rss0;
      const sampler = setInterval(() => { rssKiB(pid).then((v) => { peak = Math.max(peak, v); }, () => undefined); }, 100);
      const t0 = process.hrtime.bigint();
      const r = await run('sftp', ['-P', String(d.sftpPort), ...keyOpts(key.privateKeyPath), '-b', '-', 'bench@127.0.0.1'],
        { input: `get /big.bin ${back}`, timeoutMs: 3_600_000 });
      const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
      clearInterval(sampler);
      if (r.status !== 0) throw new Error(`download failed: ${r.stderr}`);
      const gets1 = store.gets();
      console.log(JSON.stringify({
        transfer: `SFTP download, ${BACKEND === 'gcs' ? 'GCS (test server)' : 'Azure Blob (azurite)'}`, round, daemon: round === 1 ? 'fresh' : 'settled',
        size_mib: SIZE_MB, seconds: Number(seconds.toFixed(2)), mib_per_s: Number((SIZE_MB / seconds).toFixed(1)),
        rss_growth_mib: Number(((peak - rss0) / 1024).toFixed(1)),
        server_cpu_s: counterDelta(cpu0, procCounters(pid)).cpuTicks / TICKS_PER_S,
        store_cpu_s: Number((store.cpu() - store0).toFixed(2)),
        ...(gets0 !== undefined && gets1 !== undefined ? { media_gets: gets1 - gets0 } : {}),
        content_matches: (await sha256(back)) === sum,
      }));
    }
  } finally {
    await stopDaemon(d).catch(() => undefined);
    removeDaemonDir(d);
    await store.stop();
  }
}

main().catch((e: unknown) => {
  console.error(e);
  process.exitCode = 1;
});
