/**
 * Storage profiles for the cross-protocol tables: the same table of cases runs
 * with the table's paths on a local home ("local"), on a home on S3 (s3rver,
 * "s3-home"), on a home on Google Cloud Storage (our GCS JSON-API test server,
 * "gcs-home"), on a home on HTTPFs (provider 6, our HTTPFs test service,
 * "httpfs-home") and in a virtual folder on Azure Blob (azurite) mounted in a
 * local home ("azure-folder"). HTTPFs is a home rather than a folder: then every
 * table path, the home's root and the jail table's escapes against the home
 * all go through HTTPFs (a folder on a store is covered by azure-folder). A profile gives the user's JSON, the virtual
 * root the table's paths live under, the backend's declared features (read
 * from the Fs the server builds for that location, so a case a backend cannot
 * do is selected from its declaration) and a view of what is stored there:
 * set up through the backend (its own directory markers), checked through the
 * store's own client (an object left behind shows up whatever the server thinks).
 */
import { after, before } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { Fs, FsFeatures } from '../../../src/vfs/fs';
import { azblobconfig, startAzurite, type TestAzurite } from '../../support/azurite';
import { gcsconfig, startGcsServer, type TestGcs } from '../../support/gcs-server';
import { httpconfig, startHttpFsServer, type TestHttpFs } from '../../support/httpfs-server';
import { s3config, startS3rver, type TestS3 } from '../../support/s3rver';
import { writeFile } from '../../support/vfs-conformance';
import type { AppConfig } from '../../../src/config/types';
import { startCross, type CrossEnv } from './env';
import { azureStore, gcsStore, httpfsStore, s3Store, type ObjectStore } from './stores';

export type { ObjectStore } from './stores';
export { azureStore, gcsStore, httpfsStore, s3Store } from './stores';

export type ProfileName = 'local' | 's3-home' | 'gcs-home' | 'httpfs-home' | 'azure-folder';
export const PROFILES: readonly ProfileName[] = ['local', 's3-home', 'gcs-home', 'httpfs-home', 'azure-folder'];
/** the profiles whose home (not only a folder) is on a store: their local home dir must stay empty */
export type StoreHomeProfile = 's3-home' | 'gcs-home' | 'httpfs-home';
export const isStoreHome = (p: ProfileName): p is StoreHomeProfile => p === 's3-home' || p === 'gcs-home' || p === 'httpfs-home';

/**
 * The HTTPFs services of one test file. HTTPFs has no key prefix (the service
 * decides what its root is), so each user gets its own in-process service
 * serving `<dir>/<user>`: `dir` plays the bucket, the user's subdirectory its prefix.
 */
export interface HttpFsPeers {
  dir: string;
  serve(user: string): Promise<TestHttpFs>;
  /** "METHOD op name?query" of every request any of the services received */
  requests(): string[];
  stop(): Promise<void>;
}

/** one s3rver, one azurite, one GCS test server and the HTTPFs services per test file, shared by every profile and server of the file */
export interface Peers { s3: TestS3; az: TestAzurite; gcs: TestGcs; httpfs: HttpFsPeers; stop(): Promise<void> }

interface Stoppable { stop(): Promise<void> }

/** Starts them all at once; when one fails the others are stopped again (no child process left behind). */
async function startAll<T extends readonly Stoppable[]>(starts: { readonly [K in keyof T]: Promise<T[K]> }): Promise<T> {
  const settled = await Promise.allSettled(starts as readonly Promise<Stoppable>[]);
  const failed = settled.find((r): r is PromiseRejectedResult => r.status === 'rejected');
  if (!failed) return settled.map((r) => (r as PromiseFulfilledResult<Stoppable>).value) as unknown as T;
  for (const r of settled) if (r.status === 'fulfilled') await r.value.stop();
  throw failed.reason;
}

async function startHttpFsPeers(): Promise<HttpFsPeers> {
  const dir = fs.realpathSync(fs.mkdtempSync(path.join(os.tmpdir(), 'cross-httpfs-')));
  const services: TestHttpFs[] = [];
  return {
    dir,
    async serve(user) {
      const root = path.join(dir, user);
      fs.mkdirSync(root, { recursive: true });
      const s = await startHttpFsServer({ root });
      services.push(s);
      return s;
    },
    requests: () => services.flatMap((s) => s.requests),
    async stop() {
      for (const s of services.splice(0)) await s.stop();
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** The GCS test server, reached by the server's GCS backends through STORAGE_EMULATOR_HOST (as the SDK reads it) until stopped. */
async function startGcsPeer(): Promise<TestGcs> {
  const gcs = await startGcsServer('cross-gcs-bucket');
  const previous = process.env.STORAGE_EMULATOR_HOST;
  process.env.STORAGE_EMULATOR_HOST = gcs.endpoint;
  return {
    ...gcs,
    async stop() {
      if (previous === undefined) delete process.env.STORAGE_EMULATOR_HOST; else process.env.STORAGE_EMULATOR_HOST = previous;
      await gcs.stop();
    },
  };
}

export async function startPeers(): Promise<Peers> {
  const [s3, az, gcs, httpfs] = await startAll<[TestS3, TestAzurite, TestGcs, HttpFsPeers]>(
    [startS3rver('cross-bucket'), startAzurite('cross-container'), startGcsPeer(), startHttpFsPeers()]);
  return { s3, az, gcs, httpfs, async stop() { await Promise.all([s3.stop(), az.stop(), gcs.stop(), httpfs.stop()]); } };
}

/** The in-process server and the peers, started at once (neither left running when the other fails). */
export async function startServerAndPeers(tune?: (c: AppConfig) => void): Promise<{ env: CrossEnv; peers: Peers }> {
  const [server, peers] = await startAll<[{ env: CrossEnv; stop(): Promise<void> }, Peers]>(
    [startCross(tune).then((env) => ({ env, stop: () => env.close() })), startPeers()]);
  return { env: server.env, peers };
}

/**
 * Inside a describe block: one server and the peers for the whole block, started
 * before its tests and stopped after them (read env and peers from the tests).
 */
export function crossWithPeers(tune?: (c: AppConfig) => void): { readonly env: CrossEnv; readonly peers: Peers } {
  const started: { env?: CrossEnv; peers?: Peers } = {};
  before(async () => { Object.assign(started, await startServerAndPeers(tune)); });
  after(async () => {
    await started.env?.close();
    await started.peers?.stop();
  });
  return {
    get env() { assert.ok(started.env, 'the server is not started'); return started.env; },
    get peers() { assert.ok(started.peers, 'the peers are not started'); return started.peers; },
  };
}

/** Where one table's paths live for one user, and how to see what is stored there. */
export interface TableStorage {
  profile: ProfileName;
  /** the virtual path the table's paths live under: '' (the home) or the Azure folder's mount point */
  root: string;
  /** the declared features of the backend that stores the table's paths */
  features: FsFeatures;
  /** the local home (always local disk for azure-folder, a dir that must stay empty for a home on a store) */
  home: string;
  /** the raw store (undefined on local disk) */
  store: ObjectStore | undefined;
  /** empties the table's location and creates these directories and files (paths relative to the root, no leading '/') */
  reset(dirs: string[], files: Record<string, string>): Promise<void>;
  read(rel: string): Promise<string | undefined>;
  exists(rel: string): Promise<boolean>;
  isDir(rel: string): Promise<boolean>;
  /** the entry itself (a link is not followed): undefined when missing */
  lstat(rel: string): Promise<{ isSymlink: boolean; mode: number } | undefined>;
  /** every name stored in the table's location (files and directory markers), relative */
  names(): Promise<string[]>;
  /** whether a path as the server logs it (file_path: a local path or an object key) is inside this location */
  holds(loggedPath: string): boolean;
  close(): Promise<void>;
}

const walk = (dir: string, rel = ''): string[] => (fs.existsSync(dir) ? fs.readdirSync(dir, { withFileTypes: true }).flatMap((d) => {
  const r = rel ? `${rel}/${d.name}` : d.name;
  return d.isDirectory() ? [r, ...walk(path.join(dir, d.name), r)] : [r];
}) : []);

export function localTable(home: string, features: FsFeatures): TableStorage {
  const p = (rel: string): string => path.join(home, rel);
  return {
    profile: 'local', root: '', features, home, store: undefined,
    async reset(dirs, files) {
      fs.rmSync(home, { recursive: true, force: true });
      fs.mkdirSync(home, { recursive: true });
      for (const d of dirs) fs.mkdirSync(p(d), { recursive: true });
      for (const [f, c] of Object.entries(files)) fs.writeFileSync(p(f), c);
    },
    read: async (rel) => (fs.existsSync(p(rel)) && fs.statSync(p(rel)).isFile() ? fs.readFileSync(p(rel), 'utf8') : undefined),
    exists: async (rel) => { try { fs.lstatSync(p(rel)); return true; } catch { return false; } },
    isDir: async (rel) => fs.existsSync(p(rel)) && fs.statSync(p(rel)).isDirectory(),
    async lstat(rel) {
      try { const st = fs.lstatSync(p(rel)); return { isSymlink: st.isSymbolicLink(), mode: st.mode & 0o7777 }; } catch { return undefined; }
    },
    names: async () => walk(home),
    holds: (p) => p === home || p.startsWith(`${home}/`),
    close: async () => undefined,
  };
}

const HTTPFS_PROVIDER = 6;
/**
 * HTTPFs logs the names it sends its service ("/dir/f.txt": the service, not the
 * name, decides where that is), so a name of the location is a clean absolute one
 * (no ".." left to climb out of the service's root); the jail table also checks
 * the names the service received
 */
const isServiceName = (p: string): boolean => p.startsWith('/') && path.posix.normalize(p) === p;

export function objectTable(profile: ProfileName, root: string, home: string, backend: Fs, store: ObjectStore): TableStorage {
  const prefix = backend.fsPath('/');
  const under = (keys: string[], rel: string): boolean => keys.some((k) => k === rel || k === `${rel}/` || k.startsWith(`${rel}/`));
  return {
    profile, root, features: backend.features, home, store,
    async reset(dirs, files) {
      await store.clear();
      // a home on the store: its local dir must stay empty (checked by the tables), a folder leaves the home alone
      if (!root) {
        fs.rmSync(home, { recursive: true, force: true });
        fs.mkdirSync(home, { recursive: true });
      }
      // through the backend: its own directory markers, parents first
      const all = new Set<string>();
      for (const d of dirs) d.split('/').forEach((_, i, parts) => all.add(parts.slice(0, i + 1).join('/')));
      for (const d of [...all].sort()) await backend.mkdir(`/${d}`);
      for (const [f, c] of Object.entries(files)) await writeFile(backend, `/${f}`, Buffer.from(c));
    },
    read: (rel) => store.get(rel),
    exists: async (rel) => under(await store.keys(), rel),
    async isDir(rel) {
      try { return (await backend.stat(`/${rel}`)).isDirectory; } catch { return false; }
    },
    async lstat(rel) {
      if (!under(await store.keys(), rel)) return undefined;
      const st = await backend.lstat(`/${rel}`);
      return { isSymlink: st.isSymlink, mode: st.mode & 0o7777 };
    },
    names: () => store.keys(),
    holds: (p) => (backend.provider === HTTPFS_PROVIDER ? isServiceName(p) : p.startsWith(prefix) || `${p}/` === prefix),
    close: () => backend.close(),
  };
}

/**
 * The filesystem JSON of a home on a store and the raw view of that store under
 * the user's prefix (HTTPFs: the user's own service, serving `<dir>/<user>`).
 */
export async function storeHome(peers: Peers, profile: StoreHomeProfile, username: string): Promise<{ filesystem: Record<string, unknown>; store: ObjectStore }> {
  const prefix = `${username}/`;
  switch (profile) {
    case 's3-home': return { filesystem: { provider: 1, s3config: s3config(peers.s3, { key_prefix: prefix }) }, store: s3Store(peers.s3, prefix) };
    case 'gcs-home': return { filesystem: { provider: 2, gcsconfig: gcsconfig(peers.gcs, { key_prefix: prefix }) }, store: gcsStore(peers.gcs, prefix) };
    case 'httpfs-home': {
      const service = await peers.httpfs.serve(username);
      return { filesystem: { provider: 6, httpconfig: httpconfig(service) }, store: httpfsStore(peers.httpfs.dir, prefix) };
    }
  }
}

/** Adds a user (json: its fields) whose home is on a store, and the view of that home. */
export async function addStoreHomeUser(env: CrossEnv, peers: Peers, profile: StoreHomeProfile, json: Record<string, unknown>): Promise<TableStorage> {
  const username = String(json.username);
  const { filesystem, store } = await storeHome(peers, profile, username);
  const home = await env.addUser({ ...json, filesystem });
  const stored = await env.ctx.provider.getUser(username);
  const backend = env.ctx.filesystems({ owner: username, localRoot: home, filesystem: stored!.filesystem! });
  return objectTable(profile, '', home, backend, store);
}

/**
 * Adds the user for a profile (json: the table's user fields; permissions keyed on
 * table paths are moved under the root) and returns the view of its table storage.
 */
export async function addProfileUser(env: CrossEnv, peers: Peers, profile: ProfileName, json: Record<string, unknown>): Promise<TableStorage> {
  const username = String(json.username);
  const prefix = `${username}/`;
  if (profile === 'local') {
    const home = await env.addUser(json);
    return localTable(home, env.ctx.filesystems({ owner: username, localRoot: home, filesystem: { provider: 0 } }).features);
  }
  if (isStoreHome(profile)) return addStoreHomeUser(env, peers, profile, json);
  const root = '/az';
  const folder = `az-${username}`;
  await env.ctx.provider.addFolder({ name: folder, filesystem: { provider: 3, azblobconfig: azblobconfig(peers.az, { key_prefix: prefix }) } });
  const perms = json.permissions as Record<string, string[]> | undefined;
  const moved = perms ? Object.fromEntries(Object.entries(perms).flatMap(([k, v]) => (k === '/' ? [['/', v], [root, v]] : [[`${root}${k}`, v]]))) : undefined;
  const extra = (json.virtual_folders as unknown[] | undefined) ?? [];
  const home = await env.addUser({
    ...json, ...(moved ? { permissions: moved } : {}),
    virtual_folders: [...extra, { name: folder, virtual_path: root, quota_size: -1, quota_files: -1 }],
  });
  const stored = await env.ctx.provider.getFolder(folder);
  const backend = env.ctx.filesystems({ owner: `folder ${folder}`, localRoot: '', filesystem: stored!.filesystem! });
  return objectTable(profile, root, home, backend, azureStore(peers.az, prefix));
}
