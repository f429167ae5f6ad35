/**
 * The Google Cloud Storage client of one backend: service account
 * credentials decrypted through the kms (or Google's automatic credentials),
 * bounded retries and per-request timeouts (a backend that is down fails the
 * request, it never hangs a session), and the mapping of GCS errors to
 * FsError kinds. The API endpoint is Google's, or STORAGE_EMULATOR_HOST as
 * the SDK reads it, or the one a test gives.
 */
import { Storage, type Bucket } from '@google-cloud/storage';
import { FsError } from '../../common/errors';
import { isServerError, isUnreachable } from '../backend-errors';
import type { StoredSecret as Secret } from '../fs';
import { hasSecretValue } from '../s3/config';
import type { GcsOptions } from './config';

export type SecretDecrypter = (s: Secret) => Promise<string>;

/** Deadline of one request (SFTPGo's ctxTimeout). */
export const GCS_CALL_TIMEOUT_MS = 30_000;

export async function createBucket(o: GcsOptions, decrypt: SecretDecrypter, apiEndpoint?: string): Promise<Bucket> {
  let credentials: { client_email?: string; private_key?: string } | undefined;
  let projectId: string | undefined;
  if (!o.automaticCredentials) {
    if (!hasSecretValue(o.credentials)) throw new FsError('Generic', 'gcs: no credentials configured');
    try {
      const parsed = JSON.parse(await decrypt(o.credentials)) as { client_email?: string; private_key?: string; project_id?: string };
      credentials = { client_email: parsed.client_email, private_key: parsed.private_key };
      projectId = parsed.project_id;
    } catch (e) {
      throw new FsError('Generic', `gcs: the credentials are not a service account JSON: ${(e as Error).message}`);
    }
  }
  const storage = new Storage({
    ...(apiEndpoint ? { apiEndpoint } : {}), credentials, projectId, timeout: GCS_CALL_TIMEOUT_MS,
    retryOptions: { autoRetry: true, maxRetries: 2, totalTimeout: 60, maxRetryDelay: 2 },
  });
  return storage.bucket(o.bucket);
}

interface GcsErrorShape { name?: string; message?: string; code?: number | string }

/** Maps an SDK error to an FsError; the message names the backend and the operation for the log. */
export function fromGcsError(e: unknown, op: string): FsError {
  if (e instanceof FsError) return e;
  const err = (e ?? {}) as GcsErrorShape;
  const what = `gcs ${op}: ${err.name ?? 'error'}${err.message ? `: ${err.message.split('\n')[0]}` : ''}`;
  if (err.code === 404) return new FsError('NotFound', what, e);
  if (err.code === 401 || err.code === 403) return new FsError('PermissionDenied', what, e);
  if (isUnreachable(e) || isServerError(typeof err.code === 'number' ? err.code : undefined)) return new FsError('Unavailable', what, e);
  return new FsError('Generic', what, e);
}
