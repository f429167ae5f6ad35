/**
 * The storage part of the user and folder forms: the provider choice and
 * every backend's fields (S3, GCS, Azure Blob, encrypted local, remote SFTP,
 * HTTPFs), mapped to SFTPGo's filesystem JSON; the provider validates it.
 *
 * Secrets follow SFTPGo's web admin: a stored secret is shown as
 * "[**redacted**]" (never its value); sent back unchanged it keeps the
 * stored, sealed secret; emptied it is removed; anything else typed in is
 * sent as a Plain secret that the provider seals with the kms. GCS
 * credentials come from an uploaded JSON file or the text box; with neither
 * the stored ones stay (as SFTPGo).
 */
import type { FilesystemConfig, Secret } from '../../dataprovider/models';
import type { Form } from './form';

export const REDACTED = '[**redacted**]';

/** The backends the forms offer (provider number and label). */
export const STORAGE_CHOICES: readonly [number, string][] = [
  [0, 'Local disk'], [1, 'S3 compatible'], [2, 'Google Cloud Storage'], [3, 'Azure Blob'], [4, 'Encrypted local disk'],
  [5, 'Remote SFTP'], [6, 'HTTP filesystem (HTTPFs)'],
];

type Section = 's3config' | 'gcsconfig' | 'azblobconfig' | 'cryptconfig' | 'sftpconfig' | 'httpconfig';
/** text: trimmed string; int: a number (a bad one reaches the provider, whose validation names the field); flag: true when checked; flag01: 1 when checked; lines: one value per line; secret: see above */
type Kind = 'text' | 'int' | 'flag' | 'flag01' | 'lines' | 'secret';

interface Backend { section: Section; prefix: string; fields: readonly (readonly [string, Kind])[] }

/** Form field `fs_<prefix>_<key>` ↔ `<section>.<key>`, per provider number. */
const BACKENDS: Readonly<Record<number, Backend>> = {
  1: { section: 's3config', prefix: 's3', fields: [
    ['bucket', 'text'], ['region', 'text'], ['endpoint', 'text'], ['access_key', 'text'], ['role_arn', 'text'], ['key_prefix', 'text'], ['storage_class', 'text'],
    ['acl', 'text'], ['upload_part_size', 'int'], ['upload_concurrency', 'int'], ['upload_part_max_time', 'int'], ['download_part_size', 'int'],
    ['download_concurrency', 'int'], ['download_part_max_time', 'int'], ['force_path_style', 'flag'], ['skip_tls_verify', 'flag'],
    ['access_secret', 'secret'], ['sse_customer_key', 'secret'],
  ] },
  2: { section: 'gcsconfig', prefix: 'gcs', fields: [
    ['bucket', 'text'], ['key_prefix', 'text'], ['storage_class', 'text'], ['acl', 'text'], ['upload_part_size', 'int'],
    ['upload_part_max_time', 'int'], ['automatic_credentials', 'flag01'],
  ] },
  3: { section: 'azblobconfig', prefix: 'az', fields: [
    ['container', 'text'], ['account_name', 'text'], ['endpoint', 'text'], ['key_prefix', 'text'], ['access_tier', 'text'],
    ['upload_part_size', 'int'], ['upload_concurrency', 'int'], ['download_part_size', 'int'], ['download_concurrency', 'int'],
    ['use_emulator', 'flag'], ['account_key', 'secret'], ['sas_url', 'secret'],
  ] },
  4: { section: 'cryptconfig', prefix: 'crypt', fields: [['passphrase', 'secret']] },
  5: { section: 'sftpconfig', prefix: 'sftp', fields: [
    ['endpoint', 'text'], ['username', 'text'], ['prefix', 'text'], ['fingerprints', 'lines'], ['buffer_size', 'int'],
    ['disable_concurrent_reads', 'flag'], ['equality_check_mode', 'flag01'], ['password', 'secret'], ['private_key', 'secret'], ['key_passphrase', 'secret'],
  ] },
  6: { section: 'httpconfig', prefix: 'http', fields: [
    ['endpoint', 'text'], ['username', 'text'], ['skip_tls_verify', 'flag'], ['equality_check_mode', 'flag01'], ['password', 'secret'], ['api_key', 'secret'],
  ] },
};

function storedSecret(fs: FilesystemConfig | undefined, section: Section, key: string): Secret | undefined {
  const v = fs?.[section]?.[key];
  return typeof v === 'object' && v !== null && typeof (v as Secret).status === 'string' ? (v as Secret) : undefined;
}

/** True when the stored config has this secret: the page shows it as REDACTED. */
export function hasStoredSecret(fs: FilesystemConfig | undefined, section: Section, key: string): boolean {
  const s = storedSecret(fs, section, key);
  return s !== undefined && s.status !== '' && (s.payload ?? '') !== '';
}

function secretField(form: Form, name: string, stored: Secret | undefined): Secret | undefined {
  const typed = form.str(name, false);
  if (typed.trim() === REDACTED) return stored;
  if (typed.trim() === '') return undefined;
  return { status: 'Plain', payload: typed };
}

function fieldValue(form: Form, name: string, kind: Exclude<Kind, 'secret'>): unknown {
  switch (kind) {
    case 'flag': return form.has(name) ? true : undefined;
    case 'flag01': return form.has(name) ? 1 : undefined;
    case 'lines': {
      const list = form.str(name, false).split('\n').map((s) => s.trim()).filter((s) => s !== '');
      return list.length > 0 ? list : undefined;
    }
    case 'int': {
      const raw = form.str(name);
      if (raw === '') return undefined;
      return /^-?\d+$/.test(raw) ? Number(raw) : raw;
    }
    default: {
      const v = form.str(name);
      return v === '' ? undefined : v;
    }
  }
}

/** GCS: an uploaded credentials file, else JSON typed in the box, else the stored credentials. */
function gcsCredentials(form: Form, stored: Secret | undefined): Secret | undefined {
  const file = form.str('fs_gcs_credential_file', false);
  if (file.trim() !== '') return { status: 'Plain', payload: file };
  const typed = form.str('fs_gcs_credentials', false);
  if (typed.trim() !== '' && typed.trim() !== REDACTED) return { status: 'Plain', payload: typed };
  return stored;
}

/** The filesystem from the form; a form without the storage fields keeps `stored`. */
export function filesystemFromForm(form: Form, stored: FilesystemConfig | undefined): FilesystemConfig {
  if (!form.has('fs_provider')) return stored ?? { provider: 0 };
  const provider = Number(form.str('fs_provider'));
  // secrets are kept only from the same backend's stored settings
  const same = stored?.provider === provider ? stored : undefined;
  const backend = BACKENDS[provider];
  if (backend) {
    const cfg: Record<string, unknown> = {};
    for (const [key, kind] of backend.fields) {
      const name = `fs_${backend.prefix}_${key}`;
      const v = kind === 'secret' ? secretField(form, name, storedSecret(same, backend.section, key)) : fieldValue(form, name, kind);
      if (v !== undefined) cfg[key] = v;
    }
    if (provider === 2) {
      const creds = gcsCredentials(form, storedSecret(same, 'gcsconfig', 'credentials'));
      if (creds) cfg.credentials = creds;
    }
    if (provider === 4 && same?.cryptconfig) {
      // buffer sizes have no field: keep them
      for (const k of ['read_buffer_size', 'write_buffer_size']) if (same.cryptconfig[k] !== undefined) cfg[k] = same.cryptconfig[k];
    }
    return { provider, [backend.section]: cfg };
  }
  // an unknown number goes to validation (a 400 naming it), never a silent switch to local disk
  if (Number.isInteger(provider) && provider !== 0) return { provider };
  return same?.osconfig ? { provider: 0, osconfig: same.osconfig } : { provider: 0 };
}
