/**
 * The runtime view of an SFTPGo `gcsconfig` (JSON names as SFTPGo's
 * GCSFsConfig): sizes in bytes, defaults applied, the credentials left as
 * stored (the kms decrypts them when the client is first needed).
 */
import type { StoredSecret as Secret } from '../fs';
import { isSecret, normalizeKeyPrefix } from '../s3/config';

export interface GcsOptions {
  bucket: string;
  /** service account JSON; ignored with automatic credentials */
  credentials?: Secret;
  automaticCredentials: boolean;
  /** "" or "a/b/" */
  keyPrefix: string;
  storageClass: string;
  acl: string;
  /** resumable upload chunk size, bytes (a multiple of 256 KiB) */
  uploadPartSize: number;
  /** ms allowed for one chunk to be accepted, 0 = no limit beyond the SDK's */
  uploadPartMaxTime: number;
}

const MB = 1024 * 1024;
/** SFTPGo's default chunk size for GCS (googleapi.DefaultUploadChunkSize) */
const DEFAULT_PART_MB = 16;

const str = (o: Record<string, unknown>, k: string): string => (typeof o[k] === 'string' ? (o[k] as string).trim() : '');
const num = (o: Record<string, unknown>, k: string): number => (typeof o[k] === 'number' && Number.isFinite(o[k]) ? (o[k] as number) : 0);

export function gcsOptions(cfg: Record<string, unknown>, subpath?: string): GcsOptions {
  let keyPrefix = normalizeKeyPrefix(str(cfg, 'key_prefix')) ?? '';
  // SFTPGo WithSubPath: a folder's subpath extends the key prefix
  if (subpath && subpath !== '/') keyPrefix += subpath.replace(/^\/+/, '') + '/';
  const part = num(cfg, 'upload_part_size');
  return {
    bucket: str(cfg, 'bucket'),
    credentials: isSecret(cfg.credentials) ? cfg.credentials : undefined,
    automaticCredentials: num(cfg, 'automatic_credentials') === 1,
    keyPrefix,
    storageClass: str(cfg, 'storage_class'),
    acl: str(cfg, 'acl'),
    uploadPartSize: (part > 0 && part <= 2000 ? part : DEFAULT_PART_MB) * MB,
    uploadPartMaxTime: Math.max(num(cfg, 'upload_part_max_time'), 0) * 1000,
  };
}
