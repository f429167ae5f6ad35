/**
 * What a bucket really holds, read past the server: a fresh backend instance
 * (empty key prefix) reads one object and is closed. Missing objects are
 * undefined, any other failure throws. Shared by the object-store e2e tests.
 */
import { FsError } from '../../src/common/errors';
import { NO_STORAGE_METRICS } from '../../src/metrics/storage';
import type { Fs } from '../../src/vfs/fs';
import { readFile as readBackend } from './vfs-conformance';

/** A backend's dependencies for such direct reads: plain secrets, no metrics, no warnings. */
export const directDeps = { decrypt: async (s: { payload?: string }) => s.payload ?? '', metrics: NO_STORAGE_METRICS, renameMode: 0, warn: () => undefined };

export async function objectThrough(fs: Fs, key: string): Promise<Buffer | undefined> {
  try {
    return await readBackend(fs, `/${key}`);
  } catch (e) {
    if (e instanceof FsError && e.kind === 'NotFound') return undefined;
    throw e;
  } finally {
    await fs.close();
  }
}

/** A reader of object keys through a new backend instance per read. */
export function readerThrough(make: () => Fs): (key: string) => Promise<Buffer | undefined> {
  return (key) => objectThrough(make(), key);
}
