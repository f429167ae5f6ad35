/**
 * The storage flags of `sftpgo portable` (SFTPGo's names and defaults):
 * --fs-provider osfs|s3fs|gcsfs|azblobfs|cryptfs|sftpfs (or 0-5) and each
 * backend's flags, turned into the user's filesystem JSON. The account is
 * then validated like any other user, so a value the backend cannot honour
 * (a bad access tier, a key prefix naming the root) stops start-up naming the field.
 */
import { readFileSync, statSync } from 'node:fs';
import type { FilesystemConfig } from '../dataprovider/models';
import type { FlagSpec, FlagValues } from './args';
import { UsageError } from './args';

const PREFIX_HELP = 'restrict access to this key prefix (it ends with "/")';

export const PORTABLE_FS_FLAGS: FlagSpec[] = [
  { name: 'fs-provider', short: 'f', type: 'string', default: 'osfs',
    help: 'osfs (0) local, s3fs (1) S3 compatible, gcsfs (2) Google Cloud Storage, azblobfs (3) Azure Blob, cryptfs (4) encrypted local, sftpfs (5) SFTP' },
  { name: 's3-bucket', type: 'string', default: '', help: 'S3 bucket' },
  { name: 's3-region', type: 'string', default: '', help: 'S3 region' },
  { name: 's3-access-key', type: 'string', default: '', help: 'S3 access key' },
  { name: 's3-access-secret', type: 'string', default: '', help: 'S3 access secret' },
  { name: 's3-role-arn', type: 'string', default: '', help: 'IAM role to assume through STS (the access key/secret, or the default AWS credentials, sign the AssumeRole call)' },
  { name: 's3-endpoint', type: 'string', default: '', help: 'S3 endpoint (empty: AWS)' },
  { name: 's3-storage-class', type: 'string', default: '', help: 'S3 storage class' },
  { name: 's3-acl', type: 'string', default: '', help: 'S3 canned ACL' },
  { name: 's3-key-prefix', type: 'string', default: '', help: PREFIX_HELP },
  { name: 's3-upload-part-size', type: 'int', default: 5, help: 'multipart upload part size in MB' },
  { name: 's3-upload-concurrency', type: 'int', default: 2, help: 'parts uploaded in parallel' },
  { name: 's3-force-path-style', type: 'bool', default: false, help: 'path style bucket URLs' },
  { name: 's3-skip-tls-verify', type: 'bool', default: false, help: 'accept any TLS certificate from the S3 endpoint' },
  { name: 'gcs-bucket', type: 'string', default: '', help: 'Google Cloud Storage bucket' },
  { name: 'gcs-storage-class', type: 'string', default: '', help: 'GCS storage class' },
  { name: 'gcs-key-prefix', type: 'string', default: '', help: PREFIX_HELP },
  { name: 'gcs-credentials-file', type: 'string', default: '', help: 'service account JSON credentials file (implies --gcs-automatic-credentials 0)' },
  { name: 'gcs-automatic-credentials', type: 'int', default: 1, help: '1 = application default credentials, 0 = the credentials file' },
  { name: 'az-container', type: 'string', default: '', help: 'Azure Blob container' },
  { name: 'az-account-name', type: 'string', default: '', help: 'Azure storage account name' },
  { name: 'az-account-key', type: 'string', default: '', help: 'Azure storage account key' },
  { name: 'az-sas-url', type: 'string', default: '', help: 'shared access signature URL' },
  { name: 'az-endpoint', type: 'string', default: '', help: 'empty = blob.core.windows.net' },
  { name: 'az-access-tier', type: 'string', default: '', help: 'Hot, Cool or Archive; empty = the container setting' },
  { name: 'az-key-prefix', type: 'string', default: '', help: PREFIX_HELP },
  { name: 'az-upload-part-size', type: 'int', default: 5, help: 'block size for uploads in MB' },
  { name: 'az-upload-concurrency', type: 'int', default: 5, help: 'blocks uploaded in parallel' },
  { name: 'az-download-part-size', type: 'int', default: 5, help: 'range size for downloads in MB' },
  { name: 'az-download-concurrency', type: 'int', default: 5, help: 'ranges downloaded in parallel' },
  { name: 'az-use-emulator', type: 'bool', default: false, help: 'the endpoint is an emulator (azurite): account in the URL path' },
  { name: 'crypto-passphrase', type: 'string', default: '', help: 'passphrase of the encrypted local filesystem' },
  { name: 'sftp-endpoint', type: 'string', default: '', help: 'remote SFTP server as host:port' },
  { name: 'sftp-username', type: 'string', default: '', help: 'remote SFTP user' },
  { name: 'sftp-password', type: 'string', default: '', help: 'remote SFTP password' },
  { name: 'sftp-key-path', type: 'string', default: '', help: 'private key file for the remote SFTP user' },
  { name: 'sftp-fingerprints', type: 'list', default: [], help: 'accepted host key fingerprints (SHA256:..., comma-separated or repeated)' },
  { name: 'sftp-prefix', type: 'string', default: '', help: 'restrict every operation to this remote path' },
  { name: 'sftp-disable-concurrent-reads', type: 'bool', default: false, help: 'read sequentially (for read-once servers)' },
  { name: 'sftp-buffer-size', type: 'int', default: 0, help: 'transfer buffer in MB (0-16), concurrent requests' },
];

const PROVIDERS: Record<string, number> = {
  osfs: 0, 0: 0, s3fs: 1, 1: 1, gcsfs: 2, 2: 2, azblobfs: 3, 3: 3, cryptfs: 4, 4: 4, sftpfs: 5, 5: 5,
};

/** SFTPGo getFileContents: key and credentials files are read whole, up to 1 MiB. */
const MAX_SECRET_FILE = 1024 * 1024;

const plain = (v: string): { status: string; payload: string } => ({ status: 'Plain', payload: v });

function readSecretFile(flag: string, file: string): string {
  try {
    const size = statSync(file).size;
    if (size > MAX_SECRET_FILE) throw new Error(`too big, ${size}/${MAX_SECRET_FILE} bytes`);
    return readFileSync(file, 'utf8');
  } catch (e) {
    throw new UsageError(`--${flag} ${file}: ${(e as Error).message}`);
  }
}

/** Copies the non-empty string flags into `out` under their JSON names. */
function strings(f: FlagValues, out: Record<string, unknown>, pairs: [string, string][]): void {
  for (const [flag, key] of pairs) {
    const v = String(f[flag]);
    if (v !== '') out[key] = v;
  }
}

function secrets(f: FlagValues, out: Record<string, unknown>, pairs: [string, string][]): void {
  for (const [flag, key] of pairs) {
    const v = String(f[flag]);
    if (v !== '') out[key] = plain(v);
  }
}

function s3config(f: FlagValues): Record<string, unknown> {
  const s3: Record<string, unknown> = {
    bucket: String(f['s3-bucket']), upload_part_size: Number(f['s3-upload-part-size']), upload_concurrency: Number(f['s3-upload-concurrency']),
  };
  strings(f, s3, [['s3-region', 'region'], ['s3-access-key', 'access_key'], ['s3-role-arn', 'role_arn'], ['s3-endpoint', 'endpoint'],
    ['s3-storage-class', 'storage_class'], ['s3-acl', 'acl'], ['s3-key-prefix', 'key_prefix']]);
  secrets(f, s3, [['s3-access-secret', 'access_secret']]);
  if (f['s3-force-path-style'] === true) s3.force_path_style = true;
  if (f['s3-skip-tls-verify'] === true) s3.skip_tls_verify = true;
  return s3;
}

function gcsconfig(f: FlagValues): Record<string, unknown> {
  const gcs: Record<string, unknown> = { bucket: String(f['gcs-bucket']), automatic_credentials: Number(f['gcs-automatic-credentials']) };
  strings(f, gcs, [['gcs-storage-class', 'storage_class'], ['gcs-key-prefix', 'key_prefix']]);
  const file = String(f['gcs-credentials-file']);
  if (file !== '') {
    // SFTPGo: a credentials file wins over automatic credentials
    gcs.credentials = plain(readSecretFile('gcs-credentials-file', file));
    gcs.automatic_credentials = 0;
  }
  return gcs;
}

function azblobconfig(f: FlagValues): Record<string, unknown> {
  const az: Record<string, unknown> = {
    container: String(f['az-container']),
    upload_part_size: Number(f['az-upload-part-size']), upload_concurrency: Number(f['az-upload-concurrency']),
    download_part_size: Number(f['az-download-part-size']), download_concurrency: Number(f['az-download-concurrency']),
  };
  strings(f, az, [['az-account-name', 'account_name'], ['az-endpoint', 'endpoint'], ['az-access-tier', 'access_tier'], ['az-key-prefix', 'key_prefix']]);
  secrets(f, az, [['az-account-key', 'account_key'], ['az-sas-url', 'sas_url']]);
  if (f['az-use-emulator'] === true) az.use_emulator = true;
  return az;
}

function sftpconfig(f: FlagValues): Record<string, unknown> {
  const fingerprints = (f['sftp-fingerprints'] as string[]).flatMap((v) => v.split(',')).map((v) => v.trim()).filter((v) => v !== '');
  const sftp: Record<string, unknown> = {
    endpoint: String(f['sftp-endpoint']), username: String(f['sftp-username']), fingerprints,
    buffer_size: Number(f['sftp-buffer-size']),
  };
  strings(f, sftp, [['sftp-prefix', 'prefix']]);
  secrets(f, sftp, [['sftp-password', 'password']]);
  const keyFile = String(f['sftp-key-path']);
  if (keyFile !== '') sftp.private_key = plain(readSecretFile('sftp-key-path', keyFile));
  if (f['sftp-disable-concurrent-reads'] === true) sftp.disable_concurrent_reads = true;
  return sftp;
}

export function portableFilesystem(f: FlagValues): FilesystemConfig {
  const name = String(f['fs-provider']);
  const provider = PROVIDERS[name];
  if (provider === undefined) throw new UsageError(`--fs-provider ${name}: not supported by this server (osfs, s3fs, gcsfs, azblobfs, cryptfs or sftpfs)`);
  switch (provider) {
    case 1: return { provider, s3config: s3config(f) };
    case 2: return { provider, gcsconfig: gcsconfig(f) };
    case 3: return { provider, azblobconfig: azblobconfig(f) };
    case 4: return { provider, cryptconfig: { passphrase: plain(String(f['crypto-passphrase'])) } };
    case 5: return { provider, sftpconfig: sftpconfig(f) };
    default: return { provider };
  }
}

/** The "Storage:" line printed when portable mode is ready (no secret in it). */
export function describeStorage(fs: FilesystemConfig, dir: string): string {
  const s = (o: Record<string, unknown> | undefined, k: string): string => String(o?.[k] ?? '');
  switch (fs.provider) {
    case 1: return `S3 bucket ${s(fs.s3config, 'bucket')}`;
    case 2: return `GCS bucket ${s(fs.gcsconfig, 'bucket')}`;
    case 3: return `Azure Blob container ${s(fs.azblobconfig, 'container')}`;
    case 4: return `encrypted directory ${dir}`;
    case 5: return `SFTP ${s(fs.sftpconfig, 'username')}@${s(fs.sftpconfig, 'endpoint')}${s(fs.sftpconfig, 'prefix')}`;
    default: return `directory ${dir}`;
  }
}
