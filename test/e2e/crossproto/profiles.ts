/**
 * Storage profiles for the cross-protocol tables: the same table of cases runs
 * with the table's paths on a local home ("local"), on a home on S3 (s3rver,
 * "s3-home") and in a virtual folder on Azure Blob (azurite) mounted in a
 * local home ("azure-folder"). A profile gives the user's JSON, the virtual
 * root the table's paths live under, the backend's declared features (read
 * from the Fs the server builds for that location, so a case a backend cannot
 * do is selected from its declaration) and a view of what is stored there:
 * set up through the backend (its own directory markers), checked through the
 * store's own client (an object left behind shows up whatever the server thinks).
 */
import { after, before } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { DeleteObjectCommand, GetObjectCommand, ListObjectsV2Command, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { BlobServiceClient, StorageSharedKeyCredential, type ContainerClient } from '@azure/storage-blob';
import type { Fs, FsFeatures } from '../../../src/vfs/fs';
import { AZURITE_ACCOUNT, AZURITE_KEY, azblobconfig, startAzurite, type TestAzurite } from '../../support/azurite';
import { s3config, startS3rver, type TestS3 } from '../../support/s3rver';
import { writeFile } from '../../support/vfs-conformance';
import type { AppConfig } from '../../../src/config/types';
import { startCross, type CrossEnv } from './env';

export type ProfileName = 'local' | 's3-home' | 'azure-folder';
export const PROFILES: readonly ProfileName[] = ['local', 's3-home', 'azure-folder'];

/** one s3rver and one azurite per test file, shared by every profile and server of the file */
export interface Peers { s3: TestS3; az: TestAzurite; stop(): Promise<void> }

/** Starts both at once; when one fails the other is stopped again (no child process left behind). */
async function startBoth<A extends { stop(): Promise<void> }, B extends { stop(): Promise<void> }>(a: Promise<A>, b: Promise<B>): Promise<[A, B]> {
  const [ra, rb] = await Promise.allSettled([a, b]);
  if (ra.status === 'fulfilled' && rb.status === 'fulfilled') return [ra.value, rb.value];
  if (ra.status === 'fulfilled') await ra.value.stop();
  if (rb.status === 'fulfilled') await rb.value.stop();
  throw ra.status === 'rejected' ? ra.reason : (rb as PromiseRejectedResult).reason;
}

export async function startPeers(): Promise<Peers> {
  const [s3, az] = await startBoth(startS3rver('cross-bucket'), startAzurite('cross-container'));
  return { s3, az, async stop() { await Promise.all([s3.stop(), az.stop()]); } };
}

/** The in-process server and the peers, started at once (neither left running when the other fails). */
export async function startServerAndPeers(tune?: (c: AppConfig) => void): Promise<{ env: CrossEnv; peers: Peers }> {
  const [server, peers] = await startBoth(startCross(tune).then((env) => ({ env, stop: () => env.close() })), startPeers());
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

/** The raw store under one key prefix, through its own client (not the server's backend). */
export interface ObjectStore {
  /** every key under the prefix, relative to it */
  keys(): Promise<string[]>;
  /** every key in the bucket/container (for "nothing written outside the prefix") */
  allKeys(): Promise<string[]>;
  get(key: string): Promise<string | undefined>;
  /** removes every key under the prefix */
  clear(): Promise<void>;
  put(absoluteKey: string, content: string): Promise<void>;
}

const MAX_KEYS = 10_000;

export function s3Store(s3: TestS3, prefix: string): ObjectStore {
  const client = new S3Client({
    endpoint: s3.endpoint, region: 'us-east-1', forcePathStyle: true, credentials: { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' },
  });
  const list = async (p: string): Promise<string[]> => {
    const out: string[] = [];
    let token: string | undefined;
    // bounded: MAX_KEYS keys at most
    do {
      const r = await client.send(new ListObjectsV2Command({ Bucket: s3.bucket, Prefix: p, ContinuationToken: token }));
      for (const o of r.Contents ?? []) out.push(o.Key ?? '');
      token = r.IsTruncated ? r.NextContinuationToken : undefined;
    } while (token && out.length < MAX_KEYS);
    return out;
  };
  return {
    keys: async () => (await list(prefix)).map((k) => k.slice(prefix.length)),
    allKeys: () => list(''),
    async get(key) {
      try {
        const r = await client.send(new GetObjectCommand({ Bucket: s3.bucket, Key: prefix + key }));
        return await r.Body?.transformToString('utf8');
      } catch (e) {
        if ((e as { name?: string }).name === 'NoSuchKey') return undefined;
        throw e;
      }
    },
    async clear() {
      for (const k of await list(prefix)) await client.send(new DeleteObjectCommand({ Bucket: s3.bucket, Key: k }));
    },
    async put(key, content) {
      await client.send(new PutObjectCommand({ Bucket: s3.bucket, Key: key, Body: content }));
    },
  };
}

export function azureStore(az: TestAzurite, prefix: string): ObjectStore {
  const container: ContainerClient = new BlobServiceClient(`${az.endpoint}/${AZURITE_ACCOUNT}`,
    new StorageSharedKeyCredential(AZURITE_ACCOUNT, AZURITE_KEY)).getContainerClient(az.container);
  const list = async (p: string): Promise<string[]> => {
    const out: string[] = [];
    for await (const b of container.listBlobsFlat({ prefix: p })) {
      out.push(b.name);
      if (out.length >= MAX_KEYS) break;
    }
    return out;
  };
  return {
    keys: async () => (await list(prefix)).map((k) => k.slice(prefix.length)),
    allKeys: () => list(''),
    async get(key) {
      const blob = container.getBlobClient(prefix + key);
      if (!(await blob.exists())) return undefined;
      return (await blob.downloadToBuffer()).toString('utf8');
    },
    async clear() {
      for (const k of await list(prefix)) await container.deleteBlob(k);
    },
    async put(key, content) {
      await container.getBlockBlobClient(key).upload(content, Buffer.byteLength(content));
    },
  };
}

/** Where one table's paths live for one user, and how to see what is stored there. */
export interface TableStorage {
  profile: ProfileName;
  /** the virtual path the table's paths live under: '' (the home) or the Azure folder's mount point */
  root: string;
  /** the declared features of the backend that stores the table's paths */
  features: FsFeatures;
  /** the local home (always local disk for azure-folder, a cache dir only for s3-home) */
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
    holds: (p) => p.startsWith(prefix) || `${p}/` === prefix,
    close: () => backend.close(),
  };
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
  if (profile === 's3-home') {
    const filesystem = { provider: 1, s3config: s3config(peers.s3, { key_prefix: prefix }) };
    const home = await env.addUser({ ...json, filesystem });
    const stored = await env.ctx.provider.getUser(username);
    const backend = env.ctx.filesystems({ owner: username, localRoot: home, filesystem: stored!.filesystem! });
    return objectTable(profile, '', home, backend, s3Store(peers.s3, prefix));
  }
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
