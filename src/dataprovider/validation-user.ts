/**
 * User validation and normalization (SFTPGo's rules). The result carries the
 * password as submitted (plain or already hashed): hashing is the service's
 * job. Virtual folders come back as references; the service resolves or
 * creates the folders.
 */
import { parseCertificate } from './user-certs';
import { utils as sshUtils } from 'ssh2';
import { ALL_PERMISSIONS, GROUP_TYPE, type LoginMethod, type Permission, type ProtocolName, type User, type UserFilters, type UserGroupRef, type VirtualFolder } from './models';
import {
  asObj, checkCidrs, cleanAbsPath, cleanFsPath, normalizeName, type Obj, optBool, optEmail, optInt, optObj,
  optString, optStringArray, pathContains, ValidationError,
} from './validation-core';
import { parseSecondFactor } from './secrets';
import { checkOwnershipFields, processIdentity, type RunningAs } from './ownership';
import { validateFilesystem, validateSubpath } from './validation-fs';

export interface UserValidationOptions {
  namingRules: number;
  /** data_provider.users_base_dir: default home is `<base>/<username>` */
  usersBaseDir: string;
  /** identity uid/gid are checked against (tests inject it); default: this process */
  runningAs?: RunningAs;
}

export const LOGIN_METHODS: readonly LoginMethod[] = [
  'publickey', 'password', 'password-over-SSH', 'keyboard-interactive', 'publickey+password',
  'publickey+keyboard-interactive', 'TLSCertificate', 'TLSCertificate+password',
];
export const PROTOCOLS: readonly ProtocolName[] = ['SSH', 'FTP', 'DAV', 'HTTP'];

const MAX_INT32 = 2_147_483_647;

/** `requireRoot` false for groups: their permissions are optional and "/" too. */
export function validatePermissions(v: unknown, requireRoot = true, field = 'permissions'): Record<string, Permission[]> {
  if ((v === undefined || v === null) && !requireRoot) return {};
  if (v === undefined || v === null) throw new ValidationError('permissions for the root dir "/" must be set');
  const o = asObj(v, field);
  const out: Record<string, Permission[]> = {};
  for (const [rawPath, perms] of Object.entries(o)) {
    const p = cleanAbsPath(rawPath, `permissions path "${rawPath}"`);
    if (out[p]) throw new ValidationError(`duplicated permissions for path "${p}"`);
    if (!Array.isArray(perms) || perms.length === 0) throw new ValidationError(`no permissions granted for path "${p}"`);
    for (const perm of perms) {
      if (typeof perm !== 'string' || !(ALL_PERMISSIONS as readonly string[]).includes(perm)) {
        throw new ValidationError(`invalid permission "${String(perm)}" for path "${p}"`);
      }
    }
    const list = [...new Set(perms as Permission[])];
    out[p] = list.includes('*') ? ['*'] : list;
  }
  if (requireRoot && !out['/']) throw new ValidationError('permissions for the root dir "/" must be set');
  return out;
}

export function validatePublicKeys(v: unknown): string[] {
  if (v === undefined || v === null) return [];
  if (!Array.isArray(v)) throw new ValidationError('public_keys must be an array of strings');
  const out: string[] = [];
  v.forEach((k, i) => {
    if (typeof k !== 'string' || k.trim() === '') throw new ValidationError(`public key nr. ${i + 1} is empty or not a string`);
    const key = k.trim();
    const parsed = sshUtils.parseKey(key);
    if (parsed instanceof Error) throw new ValidationError(`could not parse public key nr. ${i + 1}: ${parsed.message}`);
    if (Array.isArray(parsed) || parsed.isPrivateKey()) {
      throw new ValidationError(`public key nr. ${i + 1} is not a single OpenSSH public key`);
    }
    out.push(key);
  });
  return out;
}

export function validateFilters(v: unknown): UserFilters {
  if (v === undefined || v === null) return {};
  const o = asObj(v, 'filters');
  const f: UserFilters = {};
  const allowed = checkCidrs(optStringArray(o, 'allowed_ip', 'filters.allowed_ip'), 'filters.allowed_ip');
  if (allowed?.length) f.allowed_ip = allowed;
  const denied = checkCidrs(optStringArray(o, 'denied_ip', 'filters.denied_ip'), 'filters.denied_ip');
  if (denied?.length) f.denied_ip = denied;
  const methods = optStringArray(o, 'denied_login_methods', 'filters.denied_login_methods');
  if (methods?.length) {
    for (const m of methods) {
      if (!(LOGIN_METHODS as readonly string[]).includes(m)) throw new ValidationError(`invalid denied login method "${m}"`);
    }
    f.denied_login_methods = [...new Set(methods)] as LoginMethod[];
  }
  const protocols = optStringArray(o, 'denied_protocols', 'filters.denied_protocols');
  if (protocols?.length) {
    for (const p of protocols) {
      if (!(PROTOCOLS as readonly string[]).includes(p)) throw new ValidationError(`invalid denied protocol "${p}"`);
    }
    if (PROTOCOLS.every((p) => protocols.includes(p))) throw new ValidationError('invalid denied protocols: all protocols are denied');
    f.denied_protocols = [...new Set(protocols)] as ProtocolName[];
  }
  if (o.file_patterns !== undefined && o.file_patterns !== null) {
    if (!Array.isArray(o.file_patterns)) throw new ValidationError('filters.file_patterns must be an array');
    f.file_patterns = o.file_patterns.map((raw, i) => {
      const fp = asObj(raw, `filters.file_patterns[${i}]`);
      const p = cleanAbsPath(optString(fp, 'path') ?? '', `filters.file_patterns[${i}].path`);
      const allowedP = (optStringArray(fp, 'allowed_patterns') ?? []).map((s) => s.trim().toLowerCase()).filter(Boolean);
      const deniedP = (optStringArray(fp, 'denied_patterns') ?? []).map((s) => s.trim().toLowerCase()).filter(Boolean);
      if (allowedP.length === 0 && deniedP.length === 0) throw new ValidationError(`empty file patterns for path "${p}"`);
      const policy = optInt(fp, 'deny_policy', 0, 1, `filters.file_patterns[${i}].deny_policy`) ?? 0;
      return { path: p, allowed_patterns: allowedP, denied_patterns: deniedP, deny_policy: policy };
    });
  }
  for (const k of ['max_upload_file_size', 'external_auth_cache_time', 'default_shares_expiration',
    'max_shares_expiration', 'password_expiration', 'password_strength'] as const) {
    const n = optInt(o, k, 0, Number.MAX_SAFE_INTEGER, `filters.${k}`);
    if (n) f[k] = n;
  }
  const ftpSec = optInt(o, 'ftp_security', 0, 1, 'filters.ftp_security');
  if (ftpSec) f.ftp_security = ftpSec;
  for (const k of ['disable_fs_checks', 'allow_api_key_auth', 'is_anonymous', 'require_password_change'] as const) {
    const b = optBool(o, k, `filters.${k}`);
    if (b) f[k] = b;
  }
  for (const k of ['tls_username', 'user_type'] as const) {
    const s = optString(o, k, `filters.${k}`);
    if (s) f[k] = s;
  }
  if (f.tls_username !== undefined && f.tls_username !== 'None' && f.tls_username !== 'CommonName') {
    throw new ValidationError(`filters.tls_username: invalid TLS username "${f.tls_username}"`);
  }
  const start = optString(o, 'start_directory', 'filters.start_directory');
  if (start && start !== '/') f.start_directory = cleanAbsPath(start, 'filters.start_directory');
  for (const k of ['web_client', 'two_factor_protocols', 'tls_certs', 'additional_emails'] as const) {
    const a = optStringArray(o, k, `filters.${k}`);
    if (a?.length) f[k] = a;
  }
  for (const [i, pem] of (f.tls_certs ?? []).entries()) {
    const bad = parseCertificate(pem);
    if (bad !== undefined) throw new ValidationError(`filters.tls_certs[${i}]: invalid TLS certificate: ${bad}`);
  }
  for (const p of f.two_factor_protocols ?? []) {
    if (p !== 'SSH' && p !== 'FTP' && p !== 'HTTP') throw new ValidationError(`filters.two_factor_protocols: invalid protocol "${p}"`);
  }
  const hooks = optObj(o, 'hooks', 'filters.hooks');
  if (hooks) {
    const h: NonNullable<UserFilters['hooks']> = {};
    for (const k of ['external_auth_disabled', 'pre_login_disabled', 'check_password_disabled'] as const) {
      if (optBool(hooks, k, `filters.hooks.${k}`)) h[k] = true;
    }
    if (Object.keys(h).length > 0) f.hooks = h;
  }
  if (o.bandwidth_limits !== undefined && o.bandwidth_limits !== null) {
    if (!Array.isArray(o.bandwidth_limits)) throw new ValidationError('filters.bandwidth_limits must be an array');
    f.bandwidth_limits = o.bandwidth_limits.map((raw, i) => {
      const b = asObj(raw, `filters.bandwidth_limits[${i}]`);
      const sources = checkCidrs(optStringArray(b, 'sources'), `filters.bandwidth_limits[${i}].sources`) ?? [];
      if (sources.length === 0) throw new ValidationError(`filters.bandwidth_limits[${i}]: no bandwidth limit source specified`);
      return { sources, upload_bandwidth: optInt(b, 'upload_bandwidth', 0) ?? 0, download_bandwidth: optInt(b, 'download_bandwidth', 0) ?? 0 };
    });
  }
  if (o.access_time !== undefined && o.access_time !== null) {
    if (!Array.isArray(o.access_time)) throw new ValidationError('filters.access_time must be an array');
    f.access_time = o.access_time.map((raw, i) => {
      const a = asObj(raw, `filters.access_time[${i}]`);
      const from = optString(a, 'from') ?? '';
      const to = optString(a, 'to') ?? '';
      if (!/^\d{2}:\d{2}$/.test(from) || !/^\d{2}:\d{2}$/.test(to)) throw new ValidationError(`filters.access_time[${i}]: invalid time range`);
      return { day_of_week: optInt(a, 'day_of_week', 0, 6, `filters.access_time[${i}].day_of_week`) ?? 0, from, to };
    });
  }
  // shape only here; the service encrypts/checks them (secrets.ts) before storing
  Object.assign(f, parseSecondFactor(o, 'user'));
  return f;
}

export function validateVirtualFolders(v: unknown, homeDir: string): VirtualFolder[] {
  if (v === undefined || v === null) return [];
  if (!Array.isArray(v)) throw new ValidationError('virtual_folders must be an array');
  const out: VirtualFolder[] = [];
  v.forEach((raw, i) => {
    const o = asObj(raw, `virtual_folders[${i}]`);
    const name = optString(o, 'name', `virtual_folders[${i}].name`)?.trim();
    if (!name) throw new ValidationError(`virtual_folders[${i}]: folder name is mandatory`);
    const vp = cleanAbsPath(optString(o, 'virtual_path') ?? '', `virtual_folders[${i}].virtual_path`);
    if (vp === '/') throw new ValidationError(`invalid virtual folder "${vp}": it cannot be the root dir`);
    const mappedRaw = optString(o, 'mapped_path');
    const mapped = mappedRaw ? cleanFsPath(mappedRaw, `virtual_folders[${i}].mapped_path`) : '';
    if (mapped && homeDir && (pathContains(mapped, homeDir, '/') || pathContains(homeDir, mapped, '/'))) {
      throw new ValidationError(`invalid virtual folder "${vp}": mapped path "${mapped}" overlaps the home dir`);
    }
    for (const other of out) {
      if (other.name === name) throw new ValidationError(`duplicated virtual folder "${name}"`);
      if (pathContains(other.virtual_path, vp) || pathContains(vp, other.virtual_path)) {
        throw new ValidationError(`invalid virtual folder "${vp}": it overlaps with "${other.virtual_path}"`);
      }
    }
    const quotaSize = optInt(o, 'quota_size', -1, Number.MAX_SAFE_INTEGER, `virtual_folders[${i}].quota_size`) ?? 0;
    const quotaFiles = optInt(o, 'quota_files', -1, Number.MAX_SAFE_INTEGER, `virtual_folders[${i}].quota_files`) ?? 0;
    if ((quotaSize === -1) !== (quotaFiles === -1)) {
      throw new ValidationError(`virtual folder "${vp}": quota_size and quota_files must be both -1 or both >= 0`);
    }
    const vf: VirtualFolder = { name, mapped_path: mapped, virtual_path: vp, quota_size: quotaSize, quota_files: quotaFiles };
    const description = optString(o, 'description');
    if (description) vf.description = description;
    if (o.filesystem !== undefined) vf.filesystem = validateFilesystem(o.filesystem, `virtual_folders[${i}].filesystem`);
    const subpath = validateSubpath(optString(o, 'subpath', `virtual_folders[${i}].subpath`), `virtual_folders[${i}].subpath`);
    if (subpath) vf.subpath = subpath;
    out.push(vf);
  });
  return out;
}

/** users[].groups: known types, one primary at most, no duplicates (SFTPGo validateUserGroups). */
export function validateUserGroups(v: unknown, namingRules: number): UserGroupRef[] {
  if (v === undefined || v === null) return [];
  if (!Array.isArray(v)) throw new ValidationError('groups must be an array');
  const out: UserGroupRef[] = [];
  v.forEach((raw, i) => {
    const o = asObj(raw, `groups[${i}]`);
    const name = normalizeName(o.name, namingRules, `groups[${i}].name`);
    const type = o.type;
    if (typeof type !== 'number' || !Number.isInteger(type) || type < GROUP_TYPE.primary || type > GROUP_TYPE.membership) {
      throw new ValidationError(`groups[${i}].type: invalid group type: ${String(type)}`);
    }
    if (type === GROUP_TYPE.primary && out.some((g) => g.type === GROUP_TYPE.primary)) {
      throw new ValidationError('groups: only one primary group is allowed');
    }
    if (out.some((g) => g.name === name)) throw new ValidationError(`groups: the group "${name}" is duplicated`);
    out.push({ name, type });
  });
  return out;
}

/** Validates a full user object; throws ValidationError on the first problem. */
export function validateUser(input: unknown, opts: UserValidationOptions): User {
  const o: Obj = asObj(input, 'user');
  const username = normalizeName(o.username, opts.namingRules, 'username');
  let homeRaw = optString(o, 'home_dir') ?? '';
  if (homeRaw === '' && opts.usersBaseDir) homeRaw = `${opts.usersBaseDir.replace(/[\\/]+$/, '')}/${username}`;
  if (homeRaw === '') throw new ValidationError('home_dir is mandatory');
  const homeDir = cleanFsPath(homeRaw, 'home_dir');
  const password = optString(o, 'password') ?? '';
  const publicKeys = validatePublicKeys(o.public_keys);
  // Neither a password nor a key is a valid account, as in SFTPGo: it logs in with an SSH
  // certificate, a TLS client certificate, OpenID Connect or a hook. An empty stored password
  // never matches (checkUserAndPass, verifyPassword), so it cannot be a way in.
  const filters = validateFilters(o.filters);
  // existence of the groups and the role is checked by the service, inside the write's transaction
  const groups = validateUserGroups(o.groups, opts.namingRules);
  const role = o.role === undefined || o.role === null || o.role === '' ? '' : normalizeName(o.role, opts.namingRules, 'role');

  const uid = optInt(o, 'uid', 0, MAX_INT32) ?? 0;
  const gid = optInt(o, 'gid', 0, MAX_INT32) ?? 0;
  checkOwnershipFields(uid, gid, opts.runningAs ?? processIdentity());
  const u: User = {
    status: optInt(o, 'status', 0, 1) ?? 0,
    username,
    home_dir: homeDir,
    permissions: validatePermissions(o.permissions),
    expiration_date: optInt(o, 'expiration_date', 0) ?? 0,
    uid,
    gid,
    max_sessions: optInt(o, 'max_sessions', 0, MAX_INT32) ?? 0,
    quota_size: optInt(o, 'quota_size', 0) ?? 0,
    quota_files: optInt(o, 'quota_files', 0) ?? 0,
    upload_bandwidth: optInt(o, 'upload_bandwidth', 0) ?? 0,
    download_bandwidth: optInt(o, 'download_bandwidth', 0) ?? 0,
    upload_data_transfer: optInt(o, 'upload_data_transfer', 0) ?? 0,
    download_data_transfer: optInt(o, 'download_data_transfer', 0) ?? 0,
    total_data_transfer: optInt(o, 'total_data_transfer', 0) ?? 0,
    filters,
    filesystem: validateFilesystem(o.filesystem, 'filesystem'),
    virtual_folders: validateVirtualFolders(o.virtual_folders, homeDir),
  };
  if (password) u.password = password;
  if (groups.length > 0) u.groups = groups;
  if (role) u.role = role;
  if (publicKeys.length > 0) u.public_keys = publicKeys;
  const email = optEmail(o, 'email');
  if (email) u.email = email;
  const description = optString(o, 'description');
  if (description) u.description = description;
  const info = optString(o, 'additional_info');
  if (info) u.additional_info = info;
  return u;
}
