/**
 * The Azure Blob container client of one backend: shared-key or SAS URL
 * credentials decrypted through the kms, bounded retries and per-try
 * timeouts (a backend that is down fails the request, it never hangs a
 * session), and the mapping of Azure errors to FsError kinds.
 */
import { BlobServiceClient, ContainerClient, StorageSharedKeyCredential, type StoragePipelineOptions } from '@azure/storage-blob';
import { FsError } from '../../common/errors';
import { isServerError, isUnreachable } from '../backend-errors';
import type { StoredSecret as Secret } from '../fs';
import { hasSecretValue } from '../s3/config';
import { AZ_DEFAULT_ENDPOINT, type AzBlobOptions } from './config';

export type SecretDecrypter = (s: Secret) => Promise<string>;

/** Deadline of one metadata call (SFTPGo's ctxTimeout). */
export const AZ_CALL_TIMEOUT_MS = 30_000;
/** Deadline of one block upload or ranged download (SFTPGo's ctxLongTimeout). */
export const AZ_LONG_TIMEOUT_MS = 90_000;

const PIPELINE: StoragePipelineOptions = {
  retryOptions: { maxTries: 3, tryTimeoutInMs: AZ_LONG_TIMEOUT_MS, retryDelayInMs: 200, maxRetryDelayInMs: 2000 },
  userAgentOptions: { userAgentPrefix: 'SFTPGo' },
};

/** The container named by a SAS URL's path, or "" when the URL is the account's. */
function containerInSasUrl(u: URL): string {
  return u.pathname.split('/').filter((s) => s !== '')[0] ?? '';
}

export async function createContainerClient(o: AzBlobOptions, decrypt: SecretDecrypter): Promise<ContainerClient> {
  if (hasSecretValue(o.sasUrl)) {
    const raw = await decrypt(o.sasUrl);
    let u: URL;
    try {
      u = new URL(raw);
    } catch {
      throw new FsError('Generic', 'azblob: the SAS URL is not a valid URL');
    }
    if (containerInSasUrl(u) !== '') return new ContainerClient(raw, undefined, PIPELINE);
    if (!o.container) throw new FsError('Generic', 'azblob: the SAS URL names no container and none is configured');
    return new BlobServiceClient(raw, undefined, PIPELINE).getContainerClient(o.container);
  }
  if (!o.accountName || !hasSecretValue(o.accountKey)) {
    // SFTPGo falls back to Azure's default credential chain (managed identity...): not offered here
    throw new FsError('Unsupported', 'azblob: an account key or a SAS URL is required');
  }
  const credential = new StorageSharedKeyCredential(o.accountName, await decrypt(o.accountKey));
  const base = o.useEmulator
    ? `${(o.endpoint || 'http://127.0.0.1:10000').replace(/\/+$/, '')}/${o.accountName}`
    : `https://${o.accountName}.${o.endpoint || AZ_DEFAULT_ENDPOINT}`;
  return new BlobServiceClient(base, credential, PIPELINE).getContainerClient(o.container);
}

interface RestErrorShape { name?: string; message?: string; code?: string; statusCode?: number; details?: { errorCode?: string } }

/** Maps an SDK error to an FsError; the message names the backend and the operation for the log. */
export function fromAzError(e: unknown, op: string): FsError {
  if (e instanceof FsError) return e;
  const err = (e ?? {}) as RestErrorShape;
  const code = err.details?.errorCode ?? err.code ?? err.name ?? 'error';
  const firstLine = (err.message ?? '').split('\n')[0];
  const what = `azblob ${op}: ${code}${firstLine ? `: ${firstLine}` : ''}`;
  if (err.statusCode === 404) return new FsError('NotFound', what, e);
  if (err.statusCode === 401 || err.statusCode === 403) return new FsError('PermissionDenied', what, e);
  if (err.name === 'AbortError' || err.name === 'TimeoutError') return new FsError('Unavailable', `azblob ${op}: timed out`, e);
  if (isUnreachable(e) || isServerError(err.statusCode)) return new FsError('Unavailable', what, e);
  return new FsError('Generic', what, e);
}
