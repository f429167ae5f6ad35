/** Virtual folder JSON ("BaseVirtualFolder"). */
import { openObject, stringArray, timestamp } from './common';

const folderProps = {
  id: { type: 'integer' },
  name: { type: 'string' },
  mapped_path: { type: 'string' },
  description: { type: 'string' },
  used_quota_size: { type: 'integer' },
  used_quota_files: { type: 'integer' },
  last_quota_update: timestamp,
  users: stringArray,
  filesystem: openObject,
} as const;

export const folderSchema = { type: 'object', properties: folderProps } as const;

export const folderInputSchema = {
  type: 'object',
  properties: folderProps,
  required: ['name'],
  additionalProperties: true,
} as const;

export const folderUpdateInputSchema = { ...folderInputSchema, required: [] } as const;
