/** User JSON (SFTPGo REST v2 "User"). The hash is write-only: absent from the response schema. */
import { openObject, stringArray, timestamp } from './common';

const permissions = {
  type: 'object',
  additionalProperties: stringArray,
} as const;

const virtualFolder = openObject;

const userCommon = {
  id: { type: 'integer' },
  status: { type: 'integer', enum: [0, 1] },
  username: { type: 'string' },
  email: { type: 'string' },
  description: { type: 'string' },
  expiration_date: timestamp,
  public_keys: stringArray,
  home_dir: { type: 'string' },
  virtual_folders: { type: 'array', items: virtualFolder },
  uid: { type: 'integer' },
  gid: { type: 'integer' },
  max_sessions: { type: 'integer' },
  quota_size: { type: 'integer' },
  quota_files: { type: 'integer' },
  permissions,
  used_quota_size: { type: 'integer' },
  used_quota_files: { type: 'integer' },
  last_quota_update: timestamp,
  upload_bandwidth: { type: 'integer' },
  download_bandwidth: { type: 'integer' },
  upload_data_transfer: { type: 'integer' },
  download_data_transfer: { type: 'integer' },
  total_data_transfer: { type: 'integer' },
  used_upload_data_transfer: { type: 'integer' },
  used_download_data_transfer: { type: 'integer' },
  created_at: timestamp,
  updated_at: timestamp,
  last_login: timestamp,
  first_download: timestamp,
  first_upload: timestamp,
  last_password_change: timestamp,
  filters: openObject,
  filesystem: openObject,
  additional_info: { type: 'string' },
  groups: { type: 'array', items: openObject },
  oidc_custom_fields: openObject,
  role: { type: 'string' },
} as const;

/** Output: everything but `password`. */
export const userSchema = {
  type: 'object',
  properties: { ...userCommon, has_password: { type: 'boolean' } },
} as const;

/**
 * Input: known fields must have the right JSON type; unknown fields are
 * tolerated (SFTPGo ignores them, and dumps from newer versions carry more).
 */
export const userInputSchema = {
  type: 'object',
  properties: { ...userCommon, password: { type: 'string' } },
  required: ['username'],
  additionalProperties: true,
} as const;

export const userUpdateInputSchema = {
  ...userInputSchema,
  required: [],
} as const;
