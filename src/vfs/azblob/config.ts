/**
 * The runtime view of an SFTPGo `azblobconfig` (JSON names as SFTPGo's
 * AzBlobFsConfig): sizes in bytes, defaults applied, secrets left as stored
 * (decrypted through the kms when the client is first needed).
 */
import type { StoredSecret as Secret } from '../fs';
import { isSecret, normalizeKeyPrefix } from '../s3/config';

export interface AzBlobOptions {
  container: string;
  accountName: string;
  accountKey?: Secret;
  sasUrl?: Secret;
  /** "" = blob.core.windows.net; with use_emulator, the emulator's base URL */
  endpoint: string;
  /** "" or "a/b/" */
  keyPrefix: string;
  uploadPartSize: number;
  uploadConcurrency: number;
  downloadPartSize: number;
  downloadConcurrency: number;
  /** "", "Hot", "Cool", "Archive" */
  accessTier: string;
  useEmulator: boolean;
}

const MB = 1024 * 1024;
const DEFAULT_PART_MB = 5;
const DEFAULT_CONCURRENCY = 5;
export const AZ_DEFAULT_ENDPOINT = 'blob.core.windows.net';

const str = (o: Record<string, unknown>, k: string): string => (typeof o[k] === 'string' ? (o[k] as string).trim() : '');
const num = (o: Record<string, unknown>, k: string): number => (typeof o[k] === 'number' && Number.isFinite(o[k]) ? (o[k] as number) : 0);

/** SFTPGo setConfigDefaults: 0 → 5 MB, values under 1 MiB are MB counts. */
function bytes(v: number): number {
  const n = v > 0 ? v : DEFAULT_PART_MB;
  return n < MB ? n * MB : n;
}

function concurrency(v: number): number {
  return v > 0 ? Math.min(v, 64) : DEFAULT_CONCURRENCY;
}

export function azBlobOptions(cfg: Record<string, unknown>, subpath?: string): AzBlobOptions {
  let keyPrefix = normalizeKeyPrefix(str(cfg, 'key_prefix')) ?? '';
  // SFTPGo WithSubPath: a folder's subpath extends the key prefix
  if (subpath && subpath !== '/') keyPrefix += subpath.replace(/^\/+/, '') + '/';
  return {
    container: str(cfg, 'container'),
    accountName: str(cfg, 'account_name'),
    accountKey: isSecret(cfg.account_key) ? cfg.account_key : undefined,
    sasUrl: isSecret(cfg.sas_url) ? cfg.sas_url : undefined,
    endpoint: str(cfg, 'endpoint'),
    keyPrefix,
    uploadPartSize: bytes(num(cfg, 'upload_part_size')),
    uploadConcurrency: concurrency(num(cfg, 'upload_concurrency')),
    downloadPartSize: bytes(num(cfg, 'download_part_size')),
    downloadConcurrency: concurrency(num(cfg, 'download_concurrency')),
    accessTier: str(cfg, 'access_tier'),
    useEmulator: cfg.use_emulator === true,
  };
}
