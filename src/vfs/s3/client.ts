/**
 * The S3 client of one backend: credentials decrypted through the kms when
 * the first request needs them, bounded sockets and timeouts (a backend that
 * is down fails the request, it never hangs a session), SDK checksums only
 * when required (S3-compatible servers reject or store aws-chunked framing),
 * and the mapping of S3 errors to FsError kinds.
 */
import { createHash } from 'node:crypto';
import { Agent as HttpAgent } from 'node:http';
import { Agent as HttpsAgent } from 'node:https';
import { S3Client } from '@aws-sdk/client-s3';
import { fromTemporaryCredentials, type FromTemporaryCredentialsOptions } from '@aws-sdk/credential-providers';
import { NodeHttpHandler } from '@smithy/node-http-handler';
import { FsError } from '../../common/errors';
import type { StoredSecret as Secret } from '../fs';
import { isServerError, isUnreachable } from '../backend-errors';
import { hasSecretValue, type S3Options } from './config';

export type SecretDecrypter = (s: Secret) => Promise<string>;

/** Request timeout for metadata calls (SFTPGo's ctxTimeout). */
export const S3_CALL_TIMEOUT_MS = 30_000;
const CONNECT_TIMEOUT_MS = 10_000;
/** a socket silent this long fails its request */
const SOCKET_IDLE_TIMEOUT_MS = 60_000;

export interface SseParams {
  SSECustomerAlgorithm?: string;
  SSECustomerKey?: string;
  SSECustomerKeyMD5?: string;
}

/** SFTPGo (the AWS Go SDK's AssumeRole provider default): temporary credentials live 15 minutes */
export const ASSUMED_ROLE_DURATION_SECONDS = 900;

type CredentialsProvider = ReturnType<typeof fromTemporaryCredentials>;
type StaticKeysProvider = Exclude<FromTemporaryCredentialsOptions['masterCredentials'], undefined>;

/**
 * With a role_arn, SFTPGo's credentials come from STS AssumeRole, signed by
 * the configured keys (or the default AWS chain when there are none), in the
 * S3 region, over the same HTTP client (same timeouts), with the SDK's
 * generated session name; the S3 endpoint setting does not
 * apply to STS (AWS_ENDPOINT_URL_STS, which the SDK reads, can point it
 * elsewhere). The S3 client memoizes the result and assumes the role again
 * five minutes before the expiration. A refusal names STS and the role.
 */
function assumeRoleCredentials(roleArn: string, source: StaticKeysProvider | undefined): CredentialsProvider {
  const assume = fromTemporaryCredentials({
    params: { RoleArn: roleArn, DurationSeconds: ASSUMED_ROLE_DURATION_SECONDS },
    masterCredentials: source,
  });
  return async (props) => {
    try {
      return await assume(props);
    } catch (e) {
      throw fromS3Error(e, `sts AssumeRole ${roleArn}`);
    }
  };
}

export function createS3Client(o: S3Options, decrypt: SecretDecrypter): S3Client {
  const maxSockets = Math.max(o.uploadConcurrency, o.downloadConcurrency) + 4;
  const secret = o.accessSecret;
  const withKeys = o.accessKey !== '' && hasSecretValue(secret);
  const configuredKeys: StaticKeysProvider | undefined = withKeys
    ? async () => ({ accessKeyId: o.accessKey, secretAccessKey: await decrypt(secret), sessionToken: o.sessionToken || undefined })
    : undefined;
  return new S3Client({
    region: o.region || 'us-east-1',
    endpoint: o.endpoint || undefined,
    forcePathStyle: o.forcePathStyle,
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
    maxAttempts: 3,
    // config.credentials (memoized by the SDK) is what every request signs with, SDK commands and own requests alike
    credentials: o.roleArn ? assumeRoleCredentials(o.roleArn, configuredKeys) : configuredKeys,
    requestHandler: new NodeHttpHandler({
      connectionTimeout: CONNECT_TIMEOUT_MS,
      socketTimeout: SOCKET_IDLE_TIMEOUT_MS,
      httpAgent: new HttpAgent({ keepAlive: true, maxSockets }),
      httpsAgent: new HttpsAgent({ keepAlive: true, maxSockets, rejectUnauthorized: !o.skipTlsVerify }),
    }),
  });
}

/** SFTPGo's SSE-C key handling: a 32-byte key is used as is, anything else is hashed with SHA-256. */
export async function sseParams(o: S3Options, decrypt: SecretDecrypter): Promise<SseParams> {
  if (!hasSecretValue(o.sseCustomerKey)) return {};
  const plain = Buffer.from(await decrypt(o.sseCustomerKey));
  const key = plain.length === 32 ? plain : createHash('sha256').update(plain).digest();
  return {
    SSECustomerAlgorithm: 'AES256',
    SSECustomerKey: key.toString('base64'),
    SSECustomerKeyMD5: createHash('md5').update(key).digest('base64'),
  };
}

interface AwsErrorShape { name?: string; message?: string; code?: string; $metadata?: { httpStatusCode?: number } }

export function httpStatusOf(e: unknown): number | undefined {
  return (e as AwsErrorShape | undefined)?.$metadata?.httpStatusCode;
}

/** Maps an SDK error to an FsError; the message names the backend and the operation for the log. */
export function fromS3Error(e: unknown, op: string): FsError {
  if (e instanceof FsError) return e;
  const err = (e ?? {}) as AwsErrorShape;
  const status = httpStatusOf(e);
  const what = `s3 ${op}: ${err.name ?? 'error'}${err.message ? `: ${err.message}` : ''}`;
  if (status === 404 || err.name === 'NoSuchKey' || err.name === 'NotFound') return new FsError('NotFound', what, e);
  if (status === 401 || status === 403) return new FsError('PermissionDenied', what, e);
  if (err.name === 'AbortError' || err.name === 'TimeoutError') return new FsError('Unavailable', `s3 ${op}: timed out`, e);
  if (isUnreachable(e) || isServerError(status)) return new FsError('Unavailable', what, e);
  return new FsError('Generic', what, e);
}
