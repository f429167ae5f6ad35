/**
 * The raw stores behind the storage profiles, seen through their own clients
 * (never through the server's backend): an object left behind or written
 * outside the user's prefix shows up whatever the server thinks. S3 through
 * the AWS SDK, Azure Blob through the Azure SDK, the GCS test server through
 * its own state (list, read, delete) and its JSON API (insert), HTTPFs through
 * the directory the HTTPFs services serve (each user's service serves one
 * subdirectory of a shared parent: the parent plays the bucket, the
 * subdirectory the user's key prefix).
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { DeleteObjectCommand, GetObjectCommand, ListObjectsV2Command, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { BlobServiceClient, StorageSharedKeyCredential, type ContainerClient } from '@azure/storage-blob';
import { AZURITE_ACCOUNT, AZURITE_KEY, type TestAzurite } from '../../support/azurite';
import type { TestGcs } from '../../support/gcs-server';
import type { TestS3 } from '../../support/s3rver';

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

/** The GCS test server's bucket: its committed objects as they are (an unfinished resumable upload is no object). */
export function gcsStore(gcs: TestGcs, prefix: string): ObjectStore {
  const list = (p: string): string[] => [...gcs.objects.keys()].filter((k) => k.startsWith(p)).sort();
  return {
    keys: async () => list(prefix).map((k) => k.slice(prefix.length)),
    allKeys: async () => list(''),
    get: async (key) => gcs.objects.get(prefix + key)?.data.toString('utf8'),
    async clear() {
      for (const k of list(prefix)) gcs.objects.delete(k);
    },
    async put(key, content) {
      // through the JSON API's media upload, as any GCS client stores an object
      const r = await fetch(`${gcs.endpoint}/upload/storage/v1/b/${gcs.bucket}/o?uploadType=media&name=${encodeURIComponent(key)}`, {
        method: 'POST', headers: { 'content-type': 'text/plain' }, body: content,
      });
      if (!r.ok) throw new Error(`GCS test server: insert ${key}: ${r.status} ${await r.text()}`);
    },
  };
}

/**
 * Every entry under `dir` (links not followed), relative to `base`: a directory
 * as "name/" (as an object store's directory marker), anything else as its path.
 */
function walkEntries(dir: string, rel: string, out: string[]): void {
  if (!fs.existsSync(dir)) return;
  for (const d of fs.readdirSync(dir, { withFileTypes: true }).sort((a, b) => a.name.localeCompare(b.name))) {
    if (out.length >= MAX_KEYS) return;
    const r = `${rel}${d.name}`;
    if (d.isDirectory()) {
      out.push(`${r}/`);
      walkEntries(path.join(dir, d.name), `${r}/`, out);
    } else {
      out.push(r);
    }
  }
}

/** The directory an HTTPFs service serves: `parent` holds every user's served root, `prefix` ("user/") is this one. */
export function httpfsStore(parent: string, prefix: string): ObjectStore {
  const entries = (p: string): string[] => {
    const out: string[] = [];
    walkEntries(path.join(parent, p), p, out);
    return out;
  };
  const inside = (key: string): string => {
    const full = path.join(parent, key);
    if (!full.startsWith(`${parent}/`)) throw new Error(`${key} is not a key of ${parent}`);
    return full;
  };
  return {
    keys: async () => entries(prefix).map((k) => k.slice(prefix.length)),
    allKeys: async () => entries(''),
    async get(key) {
      const full = inside(prefix + key);
      try {
        return fs.lstatSync(full).isFile() ? fs.readFileSync(full, 'utf8') : undefined;
      } catch {
        return undefined;
      }
    },
    async clear() {
      // the served root itself stays: the service serves it
      const root = path.join(parent, prefix);
      for (const name of fs.existsSync(root) ? fs.readdirSync(root) : []) fs.rmSync(path.join(root, name), { recursive: true, force: true });
    },
    async put(key, content) {
      const full = inside(key);
      fs.mkdirSync(path.dirname(full), { recursive: true });
      fs.writeFileSync(full, content);
    },
  };
}
