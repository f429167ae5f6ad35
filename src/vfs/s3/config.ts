/**
 * The runtime view of an SFTPGo `s3config` (JSON names as SFTPGo's
 * S3FsConfig): sizes in bytes, defaults applied, secrets left as stored
 * (decrypted lazily through the kms when the first request needs them).
 */
import type { StoredSecret as Secret } from '../fs';

export interface S3Options {
  bucket: string;
  region: string;
  endpoint: string;
  accessKey: string;
  accessSecret?: Secret;
  sessionToken: string;
  /** IAM role the client assumes through STS ("" = use the keys as they are) */
  roleArn: string;
  forcePathStyle: boolean;
  skipTlsVerify: boolean;
  /** "" or "a/b/" (normalized, no leading slash, trailing slash) */
  keyPrefix: string;
  storageClass: string;
  acl: string;
  sseCustomerKey?: Secret;
  uploadPartSize: number;
  uploadConcurrency: number;
  /** ms, 0 = no limit */
  uploadPartMaxTime: number;
  downloadPartSize: number;
  downloadConcurrency: number;
  downloadPartMaxTime: number;
}

const MB = 1024 * 1024;
const DEFAULT_PART_SIZE = 5 * MB;
const DEFAULT_CONCURRENCY = 5;

const str = (o: Record<string, unknown>, k: string): string => (typeof o[k] === 'string' ? (o[k] as string).trim() : '');
const num = (o: Record<string, unknown>, k: string): number => (typeof o[k] === 'number' && Number.isFinite(o[k]) ? (o[k] as number) : 0);

export function isSecret(v: unknown): v is Secret {
  return typeof v === 'object' && v !== null && typeof (v as Secret).status === 'string';
}

/** A secret with something to decrypt (SFTPGo IsEmpty is false). */
export function hasSecretValue(s: Secret | undefined): s is Secret {
  return s !== undefined && s.status !== '' && (s.payload ?? '') !== '';
}

/** SFTPGo normalizeKeyPrefix: "/a//b" → "a/b/", "" stays "". Returns undefined for a prefix naming the bucket root. */
export function normalizeKeyPrefix(raw: string): string | undefined {
  if (raw === '') return '';
  const parts = raw.split('/').filter((s) => s !== '' && s !== '.');
  const out: string[] = [];
  for (const p of parts) {
    if (p === '..') out.pop(); else out.push(p);
  }
  return out.length === 0 ? undefined : out.join('/') + '/';
}

/** SFTPGo: part sizes under 1 MiB are MB counts; 0 picks the default. */
function partSize(v: number): number {
  if (v <= 0) return DEFAULT_PART_SIZE;
  return v < MB ? v * MB : v;
}

export function s3Options(cfg: Record<string, unknown>, subpath?: string): S3Options {
  let keyPrefix = normalizeKeyPrefix(str(cfg, 'key_prefix')) ?? '';
  // SFTPGo WithSubPath: a folder's subpath extends the key prefix
  if (subpath && subpath !== '/') keyPrefix += subpath.replace(/^\/+/, '') + '/';
  return {
    bucket: str(cfg, 'bucket'),
    region: str(cfg, 'region'),
    endpoint: str(cfg, 'endpoint'),
    accessKey: str(cfg, 'access_key'),
    accessSecret: isSecret(cfg.access_secret) ? cfg.access_secret : undefined,
    sessionToken: str(cfg, 'session_token'),
    roleArn: str(cfg, 'role_arn'),
    forcePathStyle: cfg.force_path_style === true,
    skipTlsVerify: cfg.skip_tls_verify === true,
    keyPrefix,
    storageClass: str(cfg, 'storage_class'),
    acl: str(cfg, 'acl'),
    sseCustomerKey: isSecret(cfg.sse_customer_key) ? cfg.sse_customer_key : undefined,
    uploadPartSize: partSize(num(cfg, 'upload_part_size')),
    uploadConcurrency: num(cfg, 'upload_concurrency') > 0 ? Math.min(num(cfg, 'upload_concurrency'), 64) : DEFAULT_CONCURRENCY,
    uploadPartMaxTime: Math.max(num(cfg, 'upload_part_max_time'), 0) * 1000,
    downloadPartSize: partSize(num(cfg, 'download_part_size')),
    downloadConcurrency: num(cfg, 'download_concurrency') > 0 ? Math.min(num(cfg, 'download_concurrency'), 64) : DEFAULT_CONCURRENCY,
    downloadPartMaxTime: Math.max(num(cfg, 'download_part_max_time'), 0) * 1000,
  };
}
