/**
 * Maps the user form to the REST JSON shape the provider validates (the
 * provider owns every rule; this only reads fields), and keeps what the form
 * does not show (uid/gid, other filters, folder subpaths, stored secrets) from the stored user.
 */
import type { FilePatternFilter, Permission, User, UserFilters, VirtualFolder } from '../../dataprovider/models';
import { ALL_PERMISSIONS, GROUP_TYPE } from '../../dataprovider/models';
import { LOGIN_METHODS, PROTOCOLS } from '../../dataprovider/validation';
import type { Form } from './form';
import { filesystemFromForm } from './storage-form';

/** Stored-only fields the form never sends back (the provider keeps them). */
const READ_ONLY: readonly (keyof User)[] = [
  'id', 'password', 'has_password', 'used_quota_size', 'used_quota_files', 'last_quota_update', 'created_at', 'updated_at',
  'last_login', 'first_download', 'first_upload', 'last_password_change', 'used_upload_data_transfer', 'used_download_data_transfer',
];

export const PERMISSION_CHOICES: readonly Permission[] = ALL_PERMISSIONS;
export const LOGIN_METHOD_CHOICES = LOGIN_METHODS;
export const PROTOCOL_CHOICES = PROTOCOLS;

export interface UserInput extends User { password?: string }

export function editableCopy(u: User | undefined): UserInput {
  if (!u) return { status: 1, username: '', home_dir: '', permissions: { '/': ['*'] } };
  const copy = structuredClone(u) as UserInput;
  for (const k of READ_ONLY) delete copy[k];
  return copy;
}

export function permissionsFrom(form: Form): Record<string, Permission[]> {
  const out: Record<string, Permission[]> = {};
  for (const i of form.rows('perm', 'path')) {
    const path = form.str(`perm_${i}_path`);
    if (path === '') continue;
    // validation of names and duplicates is the provider's: pass what was chosen
    out[path] = [...(out[path] ?? []), ...form.all(`perm_${i}_perm`) as Permission[]];
  }
  return out;
}

function patternsFrom(form: Form): FilePatternFilter[] {
  const out: FilePatternFilter[] = [];
  for (const i of form.rows('fp', 'path')) {
    const path = form.str(`fp_${i}_path`);
    const allowed = form.csv(`fp_${i}_allowed`);
    const denied = form.csv(`fp_${i}_denied`);
    if (path === '' && allowed.length === 0 && denied.length === 0) continue;
    out.push({ path, allowed_patterns: allowed, denied_patterns: denied, deny_policy: form.str(`fp_${i}_policy`) === '1' ? 1 : 0 });
  }
  return out;
}

export function foldersFrom(form: Form, stored: readonly VirtualFolder[] = []): VirtualFolder[] {
  const out: VirtualFolder[] = [];
  for (const i of form.rows('vf', 'name')) {
    const name = form.str(`vf_${i}_name`);
    const vpath = form.str(`vf_${i}_path`);
    if (name === '' && vpath === '') continue;
    const vf: VirtualFolder = {
      name, mapped_path: '', virtual_path: vpath,
      quota_size: form.size(`vf_${i}_quota_size`, `virtual folder "${vpath}" quota size`, -1),
      quota_files: form.int(`vf_${i}_quota_files`, `virtual folder "${vpath}" quota files`, -1),
    };
    // the form has no subpath field: an unchanged mapping keeps the stored one instead of dropping it
    const subpath = stored.find((s) => s.name === name && s.virtual_path === vpath)?.subpath;
    if (subpath) vf.subpath = subpath;
    out.push(vf);
  }
  return out;
}

/** The form on top of `base` (the stored user when editing, nothing when adding or cloning). */
export function userFromForm(form: Form, base: UserInput): UserInput {
  const filters: UserFilters = {
    ...(base.filters ?? {}),
    allowed_ip: form.csv('allowed_ip'),
    denied_ip: form.csv('denied_ip'),
    denied_login_methods: form.all('denied_login_methods') as UserFilters['denied_login_methods'],
    denied_protocols: form.all('denied_protocols') as UserFilters['denied_protocols'],
    file_patterns: patternsFrom(form),
    max_upload_file_size: form.size('max_upload_file_size', 'Max upload file size'),
    start_directory: form.str('start_directory'),
    ftp_security: form.str('ftp_security') === '1' ? 1 : 0,
  };
  const u: UserInput = {
    ...base,
    status: form.str('status') === '0' ? 0 : 1,
    username: form.str('username'),
    home_dir: form.str('home_dir'),
    public_keys: form.all('public_keys'),
    permissions: permissionsFrom(form),
    max_sessions: form.int('max_sessions', 'Max sessions'),
    quota_size: form.size('quota_size', 'Quota size'),
    quota_files: form.int('quota_files', 'Quota files'),
    upload_bandwidth: form.int('upload_bandwidth', 'Upload bandwidth'),
    download_bandwidth: form.int('download_bandwidth', 'Download bandwidth'),
    upload_data_transfer: form.int('upload_data_transfer', 'Upload data transfer'),
    download_data_transfer: form.int('download_data_transfer', 'Download data transfer'),
    total_data_transfer: form.int('total_data_transfer', 'Total data transfer'),
    expiration_date: form.date('expiration_date', 'Expiration date'),
    description: form.str('description'),
    email: form.str('email'),
    additional_info: form.str('additional_info'),
    filters,
    filesystem: filesystemFromForm(form, base.filesystem),
    virtual_folders: foldersFrom(form, base.virtual_folders ?? []),
  };
  // groups: one primary, then secondary and membership-only ones (SFTPGo types 1, 2, 3); the provider checks them
  const primary = form.str('group_primary');
  const groups = [
    ...(primary ? [{ name: primary, type: GROUP_TYPE.primary }] : []),
    ...form.all('group_secondary').map((name) => ({ name, type: GROUP_TYPE.secondary })),
    ...form.all('group_membership').map((name) => ({ name, type: GROUP_TYPE.membership })),
  ];
  u.groups = groups;
  u.role = form.str('role');
  const password = form.str('password', false);
  if (password !== '') u.password = password;
  else delete u.password;
  return u;
}
