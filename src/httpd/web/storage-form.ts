/**
 * The storage part of the user and folder forms: the provider choice and
 * the S3 / encrypted-local fields, mapped to SFTPGo's filesystem JSON (the
 * provider validates it). Secret fields are never filled in the page: left
 * empty they keep the stored, sealed secret; a value typed in is sent as a
 * Plain secret that the provider seals with the kms.
 */
import type { FilesystemConfig, Secret } from '../../dataprovider/models';
import type { Form } from './form';

/** The backends the forms offer (provider number and label). */
export const STORAGE_CHOICES: readonly [number, string][] = [
  [0, 'Local disk'], [1, 'S3 compatible'], [2, 'Google Cloud Storage (settings through the REST API)'], [3, 'Azure Blob (settings through the REST API)'], [4, 'Encrypted local disk'],
  [5, 'Remote SFTP (settings through the REST API)'],
];

/** Backends the form lists but whose settings it has no fields for yet: an edit keeps the stored settings. */
const KEPT_AS_STORED = new Set([2, 3, 5]);

const S3_TEXT = ['bucket', 'region', 'endpoint', 'access_key', 'key_prefix', 'storage_class', 'acl'] as const;
const S3_INT = ['upload_part_size', 'upload_concurrency', 'upload_part_max_time', 'download_part_size', 'download_concurrency', 'download_part_max_time'] as const;

function storedSecret(fs: FilesystemConfig | undefined, section: 's3config' | 'cryptconfig', key: string): Secret | undefined {
  const v = fs?.[section]?.[key];
  return typeof v === 'object' && v !== null && typeof (v as Secret).status === 'string' ? (v as Secret) : undefined;
}

function secretField(form: Form, name: string, stored: Secret | undefined): Secret | undefined {
  const typed = form.str(name, false);
  return typed !== '' ? { status: 'Plain', payload: typed } : stored;
}

/** Numbers as typed: a bad one reaches the provider, whose validation names the field. */
function intField(form: Form, name: string): number | string | undefined {
  const raw = form.str(name);
  if (raw === '') return undefined;
  return /^-?\d+$/.test(raw) ? Number(raw) : raw;
}

/** The filesystem from the form; a form without the storage fields keeps `stored`. */
export function filesystemFromForm(form: Form, stored: FilesystemConfig | undefined): FilesystemConfig {
  if (!form.has('fs_provider')) return stored ?? { provider: 0 };
  const provider = Number(form.str('fs_provider'));
  const same = stored?.provider === provider ? stored : undefined;
  if (provider === 1) {
    const s3: Record<string, unknown> = {};
    for (const k of S3_TEXT) {
      const v = form.str(`fs_s3_${k}`);
      if (v !== '') s3[k] = v;
    }
    for (const k of S3_INT) {
      const v = intField(form, `fs_s3_${k}`);
      if (v !== undefined) s3[k] = v;
    }
    if (form.has('fs_s3_force_path_style')) s3.force_path_style = true;
    if (form.has('fs_s3_skip_tls_verify')) s3.skip_tls_verify = true;
    const secret = secretField(form, 'fs_s3_access_secret', storedSecret(same, 's3config', 'access_secret'));
    if (secret) s3.access_secret = secret;
    const sse = secretField(form, 'fs_s3_sse_customer_key', storedSecret(same, 's3config', 'sse_customer_key'));
    if (sse) s3.sse_customer_key = sse;
    return { provider, s3config: s3 };
  }
  // never a silent switch to local disk: the stored settings stay, a new one is refused by validation
  if (KEPT_AS_STORED.has(provider)) return same ?? { provider };
  if (provider === 4) {
    const passphrase = secretField(form, 'fs_crypt_passphrase', storedSecret(same, 'cryptconfig', 'passphrase'));
    return { provider, cryptconfig: passphrase ? { passphrase } : {} };
  }
  if (Number.isInteger(provider) && provider !== 0) return { provider };
  return same?.osconfig ? { provider: 0, osconfig: same.osconfig } : { provider: 0 };
}
