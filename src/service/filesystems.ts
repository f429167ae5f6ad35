/**
 * The filesystem factory registry: one builder per SFTPGo filesystem.provider.
 * This is the only place that constructs concrete backends; common gets the
 * resulting FsFactory and never names one. A provider without a builder is
 * refused with a clear error (validation refuses it on save as well).
 */
import * as path from 'node:path';
import type { CommonConfig } from '../config/types';
import { parseUmask } from '../common/connection';
import { FsError } from '../common/errors';
import type { Secret } from '../dataprovider/models';
import type { SecretsKms } from '../kms/types';
import type { AppLogger } from '../logger/types';
import type { Metrics } from '../metrics/types';
import type { FsFactory, FsTarget } from '../common/fs-factory';
import type { Fs } from '../vfs/fs';
import { OsFs } from '../vfs/osfs';
import { CryptFs } from '../vfs/crypt/cryptfs';
import { isSecret, s3Options } from '../vfs/s3/config';
import { azBlobOptions } from '../vfs/azblob/config';
import { gcsOptions } from '../vfs/gcs/config';
import { sftpFsOptions } from '../vfs/sftpfs/config';
import { SftpConnectionPool, type SelfConnectionGuard } from '../vfs/sftpfs/pool';
import { SftpFs } from '../vfs/sftpfs/sftpfs';
import { httpFsOptions } from '../vfs/httpfs/config';
import { HttpFs } from '../vfs/httpfs/httpfs';
import { NO_STORAGE_METRICS } from '../metrics/storage';
import { PROVIDER_NAMES } from '../vfs/providers';
import { lazy } from '../util/lazy';

// the cloud backends and their SDKs load when a user or folder on that storage is first used
const s3Backend = lazy(() => require('../vfs/s3/s3fs') as typeof import('../vfs/s3/s3fs'));
const gcsBackend = lazy(() => require('../vfs/gcs/gcsfs') as typeof import('../vfs/gcs/gcsfs'));
const azBlobBackend = lazy(() => require('../vfs/azblob/azblobfs') as typeof import('../vfs/azblob/azblobfs'));

export interface FilesystemDeps {
  common: Pick<CommonConfig, 'umask' | 'rename_mode'> & Partial<Pick<CommonConfig, 'upload_mode' | 'resume_max_size'>>;
  kms: SecretsKms;
  logger: AppLogger;
  metrics: Metrics;
  /** the remote SFTP loop guard (service/self-connections.ts); without it no key is known as ours */
  selfConnections?: SelfConnectionGuard;
}

const NO_SELF_KEYS: SelfConnectionGuard = { fingerprints: async () => [], allowed: false, forbiddenSelfUser: async () => false };

type Builder = (target: FsTarget) => Fs;

const secretOf = (v: unknown): Secret | undefined => (isSecret(v) ? v : undefined);

/** A local root: home_dir/mapped_path (absolute) plus the folder's subpath. */
export function localRootOf(t: FsTarget): string {
  if (!t.localRoot || !path.isAbsolute(t.localRoot)) {
    throw new FsError('InvalidPath', `${t.owner}: the local path must be an absolute path`);
  }
  return t.subpath ? path.join(t.localRoot, t.subpath) : t.localRoot;
}

export function createFilesystems(deps: FilesystemDeps): FsFactory {
  const umask = parseUmask(deps.common.umask);
  // one pool for every remote SFTP backend: sessions with the same settings share a connection
  const sftpPool = new SftpConnectionPool(deps.selfConnections ?? NO_SELF_KEYS, (msg) => deps.logger.warn('sftpfs', msg));
  const builders = new Map<number, Builder>([
    [0, (t) => new OsFs({ root: localRootOf(t), umask })],
    [1, (t) => new (s3Backend().S3Fs)(s3Options(t.filesystem.s3config ?? {}, t.subpath), {
      decrypt: (s) => deps.kms.decrypt(s),
      metrics: deps.metrics.storage ?? NO_STORAGE_METRICS,
      renameMode: deps.common.rename_mode,
      keepPartialUploads: ((deps.common.upload_mode ?? 0) & 4) !== 0,
      resumeMaxSize: deps.common.resume_max_size ?? 0,
      warn: (msg) => deps.logger.warn('s3fs', `${t.owner}: ${msg}`),
    })],
    [2, (t) => new (gcsBackend().GcsFs)(gcsOptions(t.filesystem.gcsconfig ?? {}, t.subpath), {
      decrypt: (s) => deps.kms.decrypt(s),
      metrics: deps.metrics.storage ?? NO_STORAGE_METRICS,
      renameMode: deps.common.rename_mode,
      keepPartialUploads: ((deps.common.upload_mode ?? 0) & 8) !== 0,
      warn: (msg) => deps.logger.warn('gcsfs', `${t.owner}: ${msg}`),
    })],
    [3, (t) => new (azBlobBackend().AzBlobFs)(azBlobOptions(t.filesystem.azblobconfig ?? {}, t.subpath), {
      decrypt: (s) => deps.kms.decrypt(s),
      metrics: deps.metrics.storage ?? NO_STORAGE_METRICS,
      renameMode: deps.common.rename_mode,
      keepPartialUploads: ((deps.common.upload_mode ?? 0) & 16) !== 0,
      resumeMaxSize: deps.common.resume_max_size ?? 0,
      warn: (msg) => deps.logger.warn('azblobfs', `${t.owner}: ${msg}`),
    })],
    [5, (t) => new SftpFs(sftpFsOptions(t.filesystem.sftpconfig ?? {}, t.subpath), {
      pool: sftpPool,
      decrypt: (s) => deps.kms.decrypt(s),
      warn: (msg) => deps.logger.warn('sftpfs', `${t.owner}: ${msg}`),
    })],
    [6, (t) => {
      // SFTPGo refuses a subpath on an HTTPFs folder: the service's namespace has no prefix to extend
      if (t.subpath && t.subpath !== '/') throw new FsError('Unsupported', `${t.owner}: a virtual folder on HTTP storage cannot have a subpath`);
      return new HttpFs(httpFsOptions(t.filesystem.httpconfig ?? {}), {
        decrypt: (s) => deps.kms.decrypt(s),
        metrics: deps.metrics.storage ?? NO_STORAGE_METRICS,
        warn: (msg) => deps.logger.warn('httpfs', `${t.owner}: ${msg}`),
      });
    }],
    [4, (t) => new CryptFs(new OsFs({ root: localRootOf(t), umask }), secretOf(t.filesystem.cryptconfig?.passphrase), (s) => deps.kms.decrypt(s))],
  ]);
  return (target: FsTarget): Fs => {
    const provider = target.filesystem.provider;
    const build = builders.get(provider);
    if (!build) {
      const name = PROVIDER_NAMES[provider] ?? `provider ${provider}`;
      throw new FsError('Unsupported', `${target.owner}: the ${name} storage backend is not supported`);
    }
    return build(target);
  };
}
