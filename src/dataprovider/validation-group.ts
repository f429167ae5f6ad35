/**
 * Validation of untrusted JSON into Group and Role (SFTPGo's group.go /
 * role.go rules). A group's user_settings use the user rules with what SFTPGo
 * relaxes for groups: no mandatory home dir or root permissions, and the
 * per-user-only filters (2FA secrets, TLS certificates, user type) dropped.
 */
import type { Group, GroupUserSettings, Role } from './models';
import {
  asObj, cleanFsPath, normalizeName, type Obj, optInt, optObj, optString, ValidationError,
} from './validation-core';
import { validateFilesystem } from './validation-fs';
import { validateFilters, validatePermissions, validateVirtualFolders } from './validation-user';

/** Prefixes a nested failure with the JSON field it came from, so a 400 names it. */
function inField<T>(field: string, fn: () => T): T {
  try {
    return fn();
  } catch (e) {
    if (e instanceof ValidationError && !e.message.startsWith(field)) throw new ValidationError(`${field}.${e.message}`);
    throw e;
  }
}

function validateUserSettings(v: Obj | undefined): GroupUserSettings {
  const o: Obj = v ?? {};
  const s: GroupUserSettings = {};
  const home = optString(o, 'home_dir', 'user_settings.home_dir');
  if (home) s.home_dir = cleanFsPath(home, 'user_settings.home_dir');
  const ints = ['max_sessions', 'quota_size', 'quota_files', 'upload_bandwidth', 'download_bandwidth',
    'upload_data_transfer', 'download_data_transfer', 'total_data_transfer', 'expires_in'] as const;
  for (const k of ints) {
    const n = optInt(o, k, 0, Number.MAX_SAFE_INTEGER, `user_settings.${k}`);
    if (n) s[k] = n;
  }
  // as SFTPGo: a total transfer limit replaces the per-direction ones
  if (s.total_data_transfer) {
    delete s.upload_data_transfer;
    delete s.download_data_transfer;
  }
  const permissions = inField('user_settings', () => validatePermissions(o.permissions, false, 'permissions'));
  if (Object.keys(permissions).length > 0) s.permissions = permissions;
  const filters = inField('user_settings', () => validateFilters(o.filters));
  const { totp_config: _t, recovery_codes: _r, tls_certs: _c, user_type: _u, ...groupFilters } = filters;
  if (Object.keys(groupFilters).length > 0) s.filters = groupFilters;
  if (o.filesystem !== undefined && o.filesystem !== null) {
    s.filesystem = validateFilesystem(o.filesystem, 'user_settings.filesystem');
  }
  return s;
}

export function validateGroup(input: unknown, namingRules: number): Group {
  const o = asObj(input, 'group');
  const name = normalizeName(o.name, namingRules, 'name');
  const g: Group = {
    name,
    user_settings: validateUserSettings(optObj(o, 'user_settings')),
    // mapped paths of group folders may hold %username%: overlap with a home is checked per member at login
    virtual_folders: validateVirtualFolders(o.virtual_folders, ''),
  };
  const description = optString(o, 'description');
  if (description) g.description = description;
  return g;
}

export function validateRole(input: unknown, namingRules: number): Role {
  const o = asObj(input, 'role');
  const r: Role = { name: normalizeName(o.name, namingRules, 'name') };
  const description = optString(o, 'description');
  if (description) r.description = description;
  return r;
}
