/**
 * The storage flags of `sftpgo portable` (SFTPGo's names and defaults):
 * --fs-provider osfs|s3fs|cryptfs (or 0/1/4) and the S3 / crypto flags,
 * turned into the user's filesystem JSON. Backends this server has no
 * implementation for are refused with the flag named.
 */
import type { FilesystemConfig } from '../dataprovider/models';
import type { FlagSpec, FlagValues } from './args';
import { UsageError } from './args';

export const PORTABLE_FS_FLAGS: FlagSpec[] = [
  { name: 'fs-provider', short: 'f', type: 'string', default: 'osfs', help: 'osfs (0) local, s3fs (1) S3 compatible, cryptfs (4) encrypted local' },
  { name: 's3-bucket', type: 'string', default: '', help: 'S3 bucket' },
  { name: 's3-region', type: 'string', default: '', help: 'S3 region' },
  { name: 's3-access-key', type: 'string', default: '', help: 'S3 access key' },
  { name: 's3-access-secret', type: 'string', default: '', help: 'S3 access secret' },
  { name: 's3-endpoint', type: 'string', default: '', help: 'S3 endpoint (empty: AWS)' },
  { name: 's3-storage-class', type: 'string', default: '', help: 'S3 storage class' },
  { name: 's3-acl', type: 'string', default: '', help: 'S3 canned ACL' },
  { name: 's3-key-prefix', type: 'string', default: '', help: 'restrict access to this key prefix (it ends with "/")' },
  { name: 's3-upload-part-size', type: 'int', default: 5, help: 'multipart upload part size in MB' },
  { name: 's3-upload-concurrency', type: 'int', default: 2, help: 'parts uploaded in parallel' },
  { name: 's3-force-path-style', type: 'bool', default: false, help: 'path style bucket URLs' },
  { name: 's3-skip-tls-verify', type: 'bool', default: false, help: 'accept any TLS certificate from the S3 endpoint' },
  { name: 'crypto-passphrase', type: 'string', default: '', help: 'passphrase of the encrypted local filesystem' },
];

const PROVIDERS: Record<string, number> = { osfs: 0, 0: 0, s3fs: 1, 1: 1, cryptfs: 4, 4: 4 };

const plain = (v: string): { status: string; payload: string } => ({ status: 'Plain', payload: v });

export function portableFilesystem(f: FlagValues): FilesystemConfig {
  const name = String(f['fs-provider']);
  const provider = PROVIDERS[name];
  if (provider === undefined) throw new UsageError(`--fs-provider ${name}: not supported by this server (osfs, s3fs or cryptfs)`);
  if (provider === 4) return { provider, cryptconfig: { passphrase: plain(String(f['crypto-passphrase'])) } };
  if (provider === 0) return { provider };
  const s3: Record<string, unknown> = {
    bucket: String(f['s3-bucket']), upload_part_size: Number(f['s3-upload-part-size']), upload_concurrency: Number(f['s3-upload-concurrency']),
  };
  for (const [flag, key] of [['s3-region', 'region'], ['s3-access-key', 'access_key'], ['s3-endpoint', 'endpoint'],
    ['s3-storage-class', 'storage_class'], ['s3-acl', 'acl'], ['s3-key-prefix', 'key_prefix']] as const) {
    const v = String(f[flag]);
    if (v !== '') s3[key] = v;
  }
  const secret = String(f['s3-access-secret']);
  if (secret !== '') s3.access_secret = plain(secret);
  if (f['s3-force-path-style'] === true) s3.force_path_style = true;
  if (f['s3-skip-tls-verify'] === true) s3.skip_tls_verify = true;
  return { provider, s3config: s3 };
}
