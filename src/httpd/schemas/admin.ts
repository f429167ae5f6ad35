/** Admin JSON; `password` is write-only. */
import { openObject, stringArray, timestamp } from './common';

const adminProps = {
  id: { type: 'integer' },
  status: { type: 'integer', enum: [0, 1] },
  username: { type: 'string' },
  description: { type: 'string' },
  email: { type: 'string' },
  permissions: stringArray,
  filters: openObject,
  additional_info: { type: 'string' },
  groups: { type: 'array', items: openObject },
  created_at: timestamp,
  updated_at: timestamp,
  last_login: timestamp,
  role: { type: 'string' },
} as const;

export const adminSchema = { type: 'object', properties: adminProps } as const;

export const adminInputSchema = {
  type: 'object',
  properties: { ...adminProps, password: { type: 'string' } },
  required: ['username'],
  additionalProperties: true,
} as const;

export const adminUpdateInputSchema = { ...adminInputSchema, required: [] } as const;

export const adminProfileSchema = {
  type: 'object',
  properties: {
    email: { type: 'string' },
    description: { type: 'string' },
    allow_api_key_auth: { type: 'boolean' },
  },
  additionalProperties: false,
} as const;

export const changePasswordSchema = {
  type: 'object',
  properties: {
    current_password: { type: 'string', minLength: 1 },
    new_password: { type: 'string', minLength: 1 },
  },
  required: ['current_password', 'new_password'],
  additionalProperties: false,
} as const;
