/**
 * Validation of untrusted JSON into Folder / Admin / ApiKey (users live in
 * validation-user.ts). Every failure is a ValidationError; nothing is stored
 * by these functions.
 */
import type { Admin, AdminFilters, AdminGroupRef, AdminPermission, ApiKey, Folder } from './models';
import {
  asObj, checkCidrs, cleanFsPath, normalizeName, type Obj, optBool, optEmail, optInt, optObj, optString,
  optStringArray, ValidationError,
} from './validation-core';
import { parseSecondFactor } from './secrets';
import { isLocalProvider, validateFilesystem } from './validation-fs';

export { ValidationError, isValidationError, isObj, asObj } from './validation-core';
export type { Obj } from './validation-core';
export { validateUser, validatePermissions, validatePublicKeys, LOGIN_METHODS, PROTOCOLS } from './validation-user';
export type { UserValidationOptions } from './validation-user';
export { validateGroup, validateRole } from './validation-group';

export const ADMIN_PERMISSIONS: readonly AdminPermission[] = [
  '*', 'add_users', 'edit_users', 'del_users', 'view_users', 'view_conns', 'close_conns', 'view_status',
  'manage_admins', 'manage_folders', 'manage_groups', 'quota_scans', 'manage_system', 'manage_defender',
  'view_defender', 'view_events', 'disable_mfa', 'manage_apikeys', 'manage_event_rules', 'manage_roles',
  'manage_ip_lists',
];

/** What an admin limited to a role may not hold (SFTPGo's list for this permission set): it stays inside its role. */
export const FORBIDDEN_FOR_ROLE_ADMINS: readonly AdminPermission[] = [
  '*', 'manage_admins', 'manage_system', 'manage_event_rules', 'manage_ip_lists', 'manage_roles',
];

/** admins[].groups (SFTPGo Admin.validateGroups): existence is checked by the service. */
function validateAdminGroups(v: unknown, namingRules: number): AdminGroupRef[] {
  if (v === undefined || v === null) return [];
  if (!Array.isArray(v)) throw new ValidationError('groups must be an array');
  const out: AdminGroupRef[] = [];
  v.forEach((raw, i) => {
    const o = asObj(raw, `groups[${i}]`);
    const name = normalizeName(o.name, namingRules, `groups[${i}].name`);
    const opts = optObj(o, 'options', `groups[${i}].options`) ?? {};
    const as = optInt(opts, 'add_to_users_as', 0, Number.MAX_SAFE_INTEGER, `groups[${i}].options.add_to_users_as`) ?? 0;
    if (as > 2) throw new ValidationError(`groups[${i}].options.add_to_users_as: invalid mode to add groups to new users: ${as}`);
    if (as === 1 && out.some((g) => g.options.add_to_users_as === 1)) throw new ValidationError('groups: only one primary group is allowed');
    if (out.some((g) => g.name === name)) throw new ValidationError(`groups: the group "${name}" is duplicated`);
    out.push({ name, options: as ? { add_to_users_as: as } : {} });
  });
  return out;
}

export function validateFolder(input: unknown, namingRules: number): Folder {
  const o = asObj(input, 'folder');
  const name = normalizeName(o.name, namingRules | 1, 'folder name');
  const filesystem = validateFilesystem(o.filesystem, 'filesystem');
  const mapped = optString(o, 'mapped_path') ?? '';
  // SFTPGo: mandatory for local storage; object stores may leave it empty
  if (mapped === '' && isLocalProvider(filesystem)) throw new ValidationError(`folder "${name}": mapped_path is mandatory for the local filesystem`);
  const f: Folder = { name, mapped_path: mapped === '' ? '' : cleanFsPath(mapped, 'mapped_path'), filesystem };
  const description = optString(o, 'description');
  if (description) f.description = description;
  return f;
}

export function validateAdmin(input: unknown, namingRules: number): Admin {
  const o: Obj = asObj(input, 'admin');
  const username = normalizeName(o.username, namingRules, 'username');
  const password = optString(o, 'password') ?? '';
  if (password === '') throw new ValidationError('please set a password');
  const permsRaw = optStringArray(o, 'permissions') ?? [];
  if (permsRaw.length === 0) throw new ValidationError('please grant some permissions to this admin');
  for (const p of permsRaw) {
    if (!(ADMIN_PERMISSIONS as readonly string[]).includes(p)) throw new ValidationError(`invalid permission "${p}"`);
  }
  const perms = [...new Set(permsRaw)] as AdminPermission[];
  const filtersIn = optObj(o, 'filters') ?? {};
  const filters: AdminFilters = {};
  const allow = checkCidrs(optStringArray(filtersIn, 'allow_list', 'filters.allow_list'), 'filters.allow_list');
  if (allow?.length) filters.allow_list = allow;
  for (const k of ['allow_api_key_auth', 'require_two_factor', 'require_password_change'] as const) {
    if (optBool(filtersIn, k, `filters.${k}`)) filters[k] = true;
  }
  const prefs = optObj(filtersIn, 'preferences', 'filters.preferences');
  if (prefs) {
    const hide = optInt(prefs, 'hide_user_page_sections', 0, 65535, 'filters.preferences.hide_user_page_sections');
    const exp = optInt(prefs, 'default_users_expiration', 0, Number.MAX_SAFE_INTEGER, 'filters.preferences.default_users_expiration');
    const p: NonNullable<AdminFilters['preferences']> = {};
    if (hide) p.hide_user_page_sections = hide;
    if (exp) p.default_users_expiration = exp;
    if (Object.keys(p).length > 0) filters.preferences = p;
  }
  // shape only here; the service encrypts/checks them (secrets.ts) before storing
  Object.assign(filters, parseSecondFactor(filtersIn, 'admin'));
  const groups = validateAdminGroups(o.groups, namingRules);
  const role = o.role === undefined || o.role === null || o.role === '' ? '' : normalizeName(o.role, namingRules, 'role');
  if (role && perms.some((p) => FORBIDDEN_FOR_ROLE_ADMINS.includes(p))) {
    throw new ValidationError(`a role admin cannot have the following permissions: "${FORBIDDEN_FOR_ROLE_ADMINS.join(',')}"`);
  }
  const a: Admin = {
    status: optInt(o, 'status', 0, 1) ?? 0,
    username,
    password,
    permissions: perms.includes('*') ? ['*'] : perms,
    filters,
  };
  const email = optEmail(o, 'email');
  if (email) a.email = email;
  const description = optString(o, 'description');
  if (description) a.description = description;
  const info = optString(o, 'additional_info');
  if (info) a.additional_info = info;
  if (role) a.role = role;
  if (groups.length > 0) a.groups = groups;
  return a;
}

/** Validates the editable fields of an API key (key_id and secret are generated by the service). */
export function validateApiKey(input: unknown): Omit<ApiKey, 'key_id'> {
  const o = asObj(input, 'API key');
  const name = optString(o, 'name')?.trim() ?? '';
  if (name === '') throw new ValidationError('API key name is mandatory');
  const scope = optInt(o, 'scope', 1, 2);
  if (scope === undefined) throw new ValidationError('API key scope must be 1 (admin) or 2 (user)');
  const user = optString(o, 'user') ?? '';
  const admin = optString(o, 'admin') ?? '';
  if (scope === 1 && user) throw new ValidationError('an admin-scoped API key cannot be bound to a user');
  if (scope === 2 && admin) throw new ValidationError('a user-scoped API key cannot be bound to an admin');
  const k: Omit<ApiKey, 'key_id'> = { name, scope, expires_at: optInt(o, 'expires_at', 0) ?? 0 };
  if (user) k.user = user;
  if (admin) k.admin = admin;
  const description = optString(o, 'description');
  if (description) k.description = description;
  return k;
}
