/**
 * The filesystem part of user and folder validation (SFTPGo's
 * Filesystem.Validate): the provider's config is checked field by field and
 * returned with SFTPGo's JSON names only; the other providers' sections are
 * dropped. Every SFTPGo provider (0-6) has a backend here (service/filesystems.ts).
 * Secrets are sealed through the kms (fs-secrets.ts), never stored plain.
 */
import { utils as sshUtils } from 'ssh2';
import { cleanPrefix, endpointWithPort } from '../vfs/sftpfs/config';
import { parseEndpoint } from '../vfs/httpfs/config';
import type { FilesystemConfig, Secret } from './models';
import { asObj, optBool, optInt, optObj, optString, ValidationError, type Obj } from './validation-core';


const SECRET_STATUSES = new Set(['Plain', 'Secretbox', 'AES-256-GCM', 'Redacted']);

/** A Secret in SFTPGo's JSON, or undefined when absent/empty. */
export function optSecret(o: Obj, key: string, field: string): Secret | undefined {
  const v = o[key];
  if (v === undefined || v === null) return undefined;
  const s = asObj(v, field);
  const status = optString(s, 'status', `${field}.status`) ?? '';
  const payload = optString(s, 'payload', `${field}.payload`) ?? '';
  if (status === '' && payload === '') return undefined;
  if (!SECRET_STATUSES.has(status)) throw new ValidationError(`${field}.status "${status}" is not supported`);
  if (status === 'Redacted') throw new ValidationError(`${field}: cannot save a redacted secret`);
  if (payload === '') throw new ValidationError(`${field}: the secret payload is empty`);
  const out: Secret = { status, payload };
  const keyPart = optString(s, 'key', `${field}.key`);
  if (keyPart) out.key = keyPart;
  const ad = optString(s, 'additional_data', `${field}.additional_data`);
  if (ad) out.additional_data = ad;
  const mode = optInt(s, 'mode', 0, 1, `${field}.mode`);
  if (mode) out.mode = mode;
  return out;
}

/** SFTPGo normalizeKeyPrefix: no leading "/", a trailing "/", never the bucket root. */
function keyPrefix(raw: string, field: string): string {
  if (raw === '') return '';
  const out: string[] = [];
  for (const seg of raw.split('/')) {
    if (seg === '' || seg === '.') continue;
    if (seg === '..') out.pop(); else out.push(seg);
  }
  if (out.length === 0) throw new ValidationError(`${field}: invalid key_prefix, it cannot point to the storage root`);
  return out.join('/') + '/';
}

function partSize(o: Obj, key: string, field: string): number | undefined {
  const v = optInt(o, key, 0, Number.MAX_SAFE_INTEGER, `${field}.${key}`);
  if (v !== undefined && v !== 0 && (v < 5 || v > 2000)) {
    throw new ValidationError(`${field}.${key} cannot be != 0, lower than 5 (MB) or greater than 2000 (MB)`);
  }
  return v || undefined;
}

function validateS3(o: Obj, field: string): Record<string, unknown> {
  const bucket = (optString(o, 'bucket', `${field}.bucket`) ?? '').trim();
  if (bucket === '') throw new ValidationError(`${field}: bucket cannot be empty`);
  const region = (optString(o, 'region', `${field}.region`) ?? '').trim();
  const endpoint = (optString(o, 'endpoint', `${field}.endpoint`) ?? '').trim();
  if (endpoint === '' && region === '') throw new ValidationError(`${field}: region cannot be empty`);
  if (endpoint !== '' && !/^https?:\/\/[^\s/]+/.test(endpoint)) throw new ValidationError(`${field}.endpoint must be an http(s) URL`);
  const accessKey = (optString(o, 'access_key', `${field}.access_key`) ?? '').trim();
  const secret = optSecret(o, 'access_secret', `${field}.access_secret`);
  if (accessKey === '' && secret) throw new ValidationError(`${field}: access_key cannot be empty with access_secret not empty`);
  if (accessKey !== '' && !secret) throw new ValidationError(`${field}: access_secret cannot be empty with access_key not empty`);
  const roleArn = (optString(o, 'role_arn', `${field}.role_arn`) ?? '').trim();
  const out: Record<string, unknown> = { bucket };
  if (region) out.region = region;
  if (accessKey) out.access_key = accessKey;
  if (secret) out.access_secret = secret;
  if (roleArn) out.role_arn = roleArn;
  const sse = optSecret(o, 'sse_customer_key', `${field}.sse_customer_key`);
  if (sse) out.sse_customer_key = sse;
  const token = optString(o, 'session_token', `${field}.session_token`);
  if (token) out.session_token = token;
  if (endpoint) out.endpoint = endpoint;
  for (const k of ['storage_class', 'acl'] as const) {
    const v = (optString(o, k, `${field}.${k}`) ?? '').trim();
    if (v) out[k] = v;
  }
  const ups = partSize(o, 'upload_part_size', field);
  if (ups) out.upload_part_size = ups;
  const upc = optInt(o, 'upload_concurrency', 0, 64, `${field}.upload_concurrency`);
  if (upc) out.upload_concurrency = upc;
  const upt = optInt(o, 'upload_part_max_time', 0, Number.MAX_SAFE_INTEGER, `${field}.upload_part_max_time`);
  if (upt) out.upload_part_max_time = upt;
  const dps = partSize(o, 'download_part_size', field);
  if (dps) out.download_part_size = dps;
  const dpc = optInt(o, 'download_concurrency', 0, 64, `${field}.download_concurrency`);
  if (dpc) out.download_concurrency = dpc;
  const dpt = optInt(o, 'download_part_max_time', 0, Number.MAX_SAFE_INTEGER, `${field}.download_part_max_time`);
  if (dpt) out.download_part_max_time = dpt;
  if (optBool(o, 'force_path_style', `${field}.force_path_style`)) out.force_path_style = true;
  if (optBool(o, 'skip_tls_verify', `${field}.skip_tls_verify`)) out.skip_tls_verify = true;
  const prefix = keyPrefix(optString(o, 'key_prefix', `${field}.key_prefix`) ?? '', field);
  if (prefix) out.key_prefix = prefix;
  return out;
}

/** SFTPGo validAzAccessTier */
const AZ_ACCESS_TIERS = new Set(['', 'Archive', 'Hot', 'Cool']);

function validateAzBlob(o: Obj, field: string): Record<string, unknown> {
  const container = (optString(o, 'container', `${field}.container`) ?? '').trim();
  const sasUrl = optSecret(o, 'sas_url', `${field}.sas_url`);
  const accountKey = optSecret(o, 'account_key', `${field}.account_key`);
  const accountName = (optString(o, 'account_name', `${field}.account_name`) ?? '').trim();
  // the container may be part of the SAS URL (checked when the backend connects)
  if (!sasUrl && container === '') throw new ValidationError(`${field}: container cannot be empty`);
  if (sasUrl?.status === 'Plain') {
    try { new URL(sasUrl.payload ?? ''); } catch { throw new ValidationError(`${field}.sas_url: invalid SAS URL`); }
  }
  if (!sasUrl) {
    if (accountName === '') throw new ValidationError(`${field}: account name is required`);
    // SFTPGo falls back to Azure's default credential chain; this server has none, so a key is required
    if (!accountKey) throw new ValidationError(`${field}.account_key is required: Azure default credentials are not supported by this server`);
  }
  const out: Record<string, unknown> = {};
  if (container) out.container = container;
  if (accountName) out.account_name = accountName;
  if (accountKey) out.account_key = accountKey;
  if (sasUrl) out.sas_url = sasUrl;
  const endpoint = (optString(o, 'endpoint', `${field}.endpoint`) ?? '').trim();
  if (endpoint) out.endpoint = endpoint;
  const useEmulator = optBool(o, 'use_emulator', `${field}.use_emulator`) === true;
  if (useEmulator && !/^https?:\/\/[^\s/]+/.test(endpoint)) throw new ValidationError(`${field}.endpoint must be an http(s) URL with use_emulator`);
  if (useEmulator) out.use_emulator = true;
  for (const k of ['upload_part_size', 'download_part_size'] as const) {
    const v = optInt(o, k, 0, 2000, `${field}.${k}`);
    if (v) out[k] = v;
  }
  for (const k of ['upload_concurrency', 'download_concurrency'] as const) {
    const v = optInt(o, k, 0, 64, `${field}.${k}`);
    if (v) out[k] = v;
  }
  const tier = optString(o, 'access_tier', `${field}.access_tier`) ?? '';
  if (!AZ_ACCESS_TIERS.has(tier)) throw new ValidationError(`${field}.access_tier: invalid access tier "${tier}", valid values: "", Archive, Hot, Cool`);
  if (tier) out.access_tier = tier;
  const prefix = keyPrefix(optString(o, 'key_prefix', `${field}.key_prefix`) ?? '', field);
  if (prefix) out.key_prefix = prefix;
  return out;
}

function validateGcs(o: Obj, field: string): Record<string, unknown> {
  const bucket = (optString(o, 'bucket', `${field}.bucket`) ?? '').trim();
  if (bucket === '') throw new ValidationError(`${field}: bucket cannot be empty`);
  const automatic = optInt(o, 'automatic_credentials', 0, 1, `${field}.automatic_credentials`) === 1;
  const out: Record<string, unknown> = { bucket };
  if (automatic) {
    out.automatic_credentials = 1;
  } else {
    const credentials = optSecret(o, 'credentials', `${field}.credentials`);
    if (!credentials) throw new ValidationError(`${field}: invalid credentials`);
    if (credentials.status === 'Plain') {
      let parsed: unknown;
      try { parsed = JSON.parse(credentials.payload ?? ''); } catch { parsed = undefined; }
      if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
        throw new ValidationError(`${field}.credentials: invalid credentials, a service account JSON is required`);
      }
    }
    out.credentials = credentials;
  }
  const prefix = keyPrefix(optString(o, 'key_prefix', `${field}.key_prefix`) ?? '', field);
  if (prefix) out.key_prefix = prefix;
  for (const k of ['storage_class', 'acl'] as const) {
    const v = (optString(o, k, `${field}.${k}`) ?? '').trim();
    if (v) out[k] = v;
  }
  // SFTPGo resets an out of range part size to the default instead of refusing it
  const part = optInt(o, 'upload_part_size', Number.MIN_SAFE_INTEGER, Number.MAX_SAFE_INTEGER, `${field}.upload_part_size`) ?? 0;
  if (part > 0 && part <= 2000) out.upload_part_size = part;
  const maxTime = optInt(o, 'upload_part_max_time', Number.MIN_SAFE_INTEGER, Number.MAX_SAFE_INTEGER, `${field}.upload_part_max_time`) ?? 0;
  if (maxTime > 0) out.upload_part_max_time = maxTime;
  return out;
}

/** SFTPGo validatePrivateKey: a plain key must parse (with its passphrase) and an RSA key needs 2048 bits. */
function checkPrivateKey(key: Secret | undefined, passphrase: Secret | undefined, field: string): void {
  if (key?.status !== 'Plain') return;
  const parsed = sshUtils.parseKey(key.payload ?? '', passphrase?.status === 'Plain' ? passphrase.payload : undefined);
  const k = Array.isArray(parsed) ? parsed[0] : parsed;
  if (!k || k instanceof Error) throw new ValidationError(`${field}.private_key: invalid private key${k instanceof Error ? `: ${k.message}` : ''}`);
  if (k.type === 'ssh-rsa') {
    // the public blob holds e then n, each as an SSH mpint (length-prefixed)
    const blob = k.getPublicSSH();
    const eLen = blob.readUInt32BE(4 + blob.readUInt32BE(0));
    const nOff = 8 + blob.readUInt32BE(0) + eLen;
    const n = blob.subarray(nOff + 4, nOff + 4 + blob.readUInt32BE(nOff));
    const bits = (n.length - (n[0] === 0 ? 1 : 0)) * 8;
    if (bits < 2048) throw new ValidationError(`${field}.private_key: rsa key with size ${bits} not accepted, minimum 2048`);
  }
}

function validateSftp(o: Obj, field: string): Record<string, unknown> {
  const rawEndpoint = (optString(o, 'endpoint', `${field}.endpoint`) ?? '').trim();
  if (rawEndpoint === '') throw new ValidationError(`${field}: endpoint cannot be empty`);
  const endpoint = endpointWithPort(rawEndpoint);
  const m = /^(\[[^\]\s]+\]|[^:\s\[\]]+):(\d{1,5})$/.exec(endpoint);
  if (!m || Number(m[2]) < 1 || Number(m[2]) > 65535) throw new ValidationError(`${field}: invalid endpoint "${rawEndpoint}"`);
  const username = (optString(o, 'username', `${field}.username`) ?? '').trim();
  if (username === '') throw new ValidationError(`${field}: username cannot be empty`);
  const password = optSecret(o, 'password', `${field}.password`);
  const privateKey = optSecret(o, 'private_key', `${field}.private_key`);
  const keyPassphrase = optSecret(o, 'key_passphrase', `${field}.key_passphrase`);
  if (!password && !privateKey) throw new ValidationError(`${field}: credentials cannot be empty`);
  checkPrivateKey(privateKey, keyPassphrase, field);
  const fps = o.fingerprints;
  if (fps !== undefined && fps !== null && (!Array.isArray(fps) || fps.some((f) => typeof f !== 'string'))) {
    throw new ValidationError(`${field}.fingerprints must be a list of strings`);
  }
  const fingerprints = ((fps as string[] | undefined) ?? []).map((f) => f.trim()).filter((f) => f !== '');
  for (const f of fingerprints) {
    if (!/^SHA256:[A-Za-z0-9+/]{43}$/.test(f)) throw new ValidationError(`${field}.fingerprints: "${f}" is not a SHA256 fingerprint (SHA256:<base64>)`);
  }
  const out: Record<string, unknown> = { endpoint, username };
  if (password) out.password = password;
  if (privateKey) out.private_key = privateKey;
  if (keyPassphrase) out.key_passphrase = keyPassphrase;
  if (fingerprints.length > 0) out.fingerprints = fingerprints;
  out.prefix = cleanPrefix(optString(o, 'prefix', `${field}.prefix`) ?? '');
  if (optBool(o, 'disable_concurrent_reads', `${field}.disable_concurrent_reads`)) out.disable_concurrent_reads = true;
  const buffer = optInt(o, 'buffer_size', 0, 16, `${field}.buffer_size`);
  if (buffer) out.buffer_size = buffer;
  const eq = optInt(o, 'equality_check_mode', 0, 1, `${field}.equality_check_mode`);
  if (eq) out.equality_check_mode = eq;
  return out;
}

/** SFTPGo HTTPFsConfig.validate: the endpoint rules (vfs/httpfs/config.ts), optional credentials. */
function validateHttp(o: Obj, field: string): Record<string, unknown> {
  const parsed = parseEndpoint(optString(o, 'endpoint', `${field}.endpoint`) ?? '');
  if (!parsed.ok) throw new ValidationError(`${field}.endpoint: ${parsed.reason}`);
  const out: Record<string, unknown> = { endpoint: (o.endpoint as string).trim().replace(/\/+$/, '') };
  const username = optString(o, 'username', `${field}.username`) ?? '';
  if (username) out.username = username;
  const password = optSecret(o, 'password', `${field}.password`);
  if (password) out.password = password;
  const apiKey = optSecret(o, 'api_key', `${field}.api_key`);
  if (apiKey) out.api_key = apiKey;
  if (optBool(o, 'skip_tls_verify', `${field}.skip_tls_verify`)) out.skip_tls_verify = true;
  const eq = optInt(o, 'equality_check_mode', 0, 1, `${field}.equality_check_mode`);
  if (eq) out.equality_check_mode = eq;
  return out;
}

function validateOs(o: Obj | undefined, field: string): FilesystemConfig {
  if (!o) return { provider: 0 };
  const read = optInt(o, 'read_buffer_size', 0, 10, `${field}.osconfig.read_buffer_size`);
  const write = optInt(o, 'write_buffer_size', 0, 10, `${field}.osconfig.write_buffer_size`);
  const osconfig: { read_buffer_size?: number; write_buffer_size?: number } = {};
  if (read) osconfig.read_buffer_size = read;
  if (write) osconfig.write_buffer_size = write;
  return Object.keys(osconfig).length > 0 ? { provider: 0, osconfig } : { provider: 0 };
}

export function validateFilesystem(v: unknown, field: string): FilesystemConfig {
  if (v === undefined || v === null) return { provider: 0 };
  const o = asObj(v, field);
  const provider = optInt(o, 'provider', 0, 6, `${field}.provider`) ?? 0;
  if (provider === 1) {
    const s3 = optObj(o, 's3config', `${field}.s3config`);
    if (!s3) throw new ValidationError(`${field}.s3config is mandatory for the S3 provider`);
    return { provider, s3config: validateS3(s3, `${field}.s3config`) };
  }
  if (provider === 2) {
    const gcs = optObj(o, 'gcsconfig', `${field}.gcsconfig`);
    if (!gcs) throw new ValidationError(`${field}.gcsconfig is mandatory for the Google Cloud Storage provider`);
    return { provider, gcsconfig: validateGcs(gcs, `${field}.gcsconfig`) };
  }
  if (provider === 3) {
    const az = optObj(o, 'azblobconfig', `${field}.azblobconfig`);
    if (!az) throw new ValidationError(`${field}.azblobconfig is mandatory for the Azure Blob provider`);
    return { provider, azblobconfig: validateAzBlob(az, `${field}.azblobconfig`) };
  }
  if (provider === 5) {
    const sftp = optObj(o, 'sftpconfig', `${field}.sftpconfig`);
    if (!sftp) throw new ValidationError(`${field}.sftpconfig is mandatory for the SFTP provider`);
    return { provider, sftpconfig: validateSftp(sftp, `${field}.sftpconfig`) };
  }
  if (provider === 6) {
    const http = optObj(o, 'httpconfig', `${field}.httpconfig`);
    if (!http) throw new ValidationError(`${field}.httpconfig is mandatory for the HTTP provider`);
    return { provider, httpconfig: validateHttp(http, `${field}.httpconfig`) };
  }
  if (provider === 4) {
    const c = optObj(o, 'cryptconfig', `${field}.cryptconfig`) ?? {};
    const passphrase = optSecret(c, 'passphrase', `${field}.cryptconfig.passphrase`);
    if (!passphrase) throw new ValidationError(`${field}.cryptconfig: invalid passphrase`);
    const cryptconfig: Record<string, unknown> = { passphrase };
    for (const k of ['read_buffer_size', 'write_buffer_size'] as const) {
      const v = optInt(c, k, 0, 10, `${field}.cryptconfig.${k}`);
      if (v) cryptconfig[k] = v;
    }
    return { provider, cryptconfig };
  }
  return validateOs(optObj(o, 'osconfig', `${field}.osconfig`), field);
}

/** Local (0) and encrypted local (4) storage live under mapped_path/home_dir. */
export function isLocalProvider(fs: FilesystemConfig | undefined): boolean {
  return fs === undefined || fs.provider === 0 || fs.provider === 4;
}

/** SFTPGo validateFolderSubPathValue: canonical "/a/b", at most 191 characters. */
export function validateSubpath(raw: string | undefined, field: string): string | undefined {
  if (raw === undefined || raw === '') return undefined;
  const segs = raw.split('/');
  const canonical = raw.startsWith('/') && raw.length > 1 && !raw.endsWith('/') &&
    segs.slice(1).every((s) => s !== '' && s !== '.' && s !== '..' && !s.includes('\\'));
  if (!canonical || raw.length > 191 || raw.includes('\0')) {
    throw new ValidationError(`${field}: invalid subpath ${JSON.stringify(raw)}, it must be a canonical path of at most 191 characters`);
  }
  return raw;
}
