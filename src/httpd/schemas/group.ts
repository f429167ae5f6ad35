/** Group and role JSON (SFTPGo's Group / Role). */
import { openObject, stringArray, timestamp } from './common';

const groupProps = {
  id: { type: 'integer' },
  name: { type: 'string' },
  description: { type: 'string' },
  created_at: timestamp,
  updated_at: timestamp,
  user_settings: openObject,
  virtual_folders: { type: 'array', items: openObject },
  users: stringArray,
  admins: stringArray,
} as const;

export const groupSchema = { type: 'object', properties: groupProps } as const;
export const groupInputSchema = { type: 'object', properties: groupProps, required: ['name'], additionalProperties: true } as const;
export const groupUpdateInputSchema = { ...groupInputSchema, required: [] } as const;

const roleProps = {
  id: { type: 'integer' },
  name: { type: 'string' },
  description: { type: 'string' },
  created_at: timestamp,
  updated_at: timestamp,
  users: stringArray,
  admins: stringArray,
} as const;

export const roleSchema = { type: 'object', properties: roleProps } as const;
export const roleInputSchema = { type: 'object', properties: roleProps, required: ['name'], additionalProperties: true } as const;
export const roleUpdateInputSchema = { ...roleInputSchema, required: [] } as const;
