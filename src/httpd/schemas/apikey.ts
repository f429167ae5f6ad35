/** API key JSON as SFTPGo shows it: `id` is the key id; the hashed secret never leaves. */
import { timestamp } from './common';

const apiKeyProps = {
  id: { type: 'string' },
  name: { type: 'string' },
  scope: { type: 'integer', enum: [1, 2] },
  created_at: timestamp,
  updated_at: timestamp,
  last_use_at: timestamp,
  expires_at: timestamp,
  description: { type: 'string' },
  user: { type: 'string' },
  admin: { type: 'string' },
} as const;

export const apiKeySchema = { type: 'object', properties: apiKeyProps } as const;

export const apiKeyInputSchema = {
  type: 'object',
  properties: { ...apiKeyProps, key: { type: 'string' } },
  required: ['name', 'scope'],
  additionalProperties: true,
} as const;

export const apiKeyUpdateInputSchema = { ...apiKeyInputSchema, required: [] } as const;

export const apiKeyCreatedSchema = {
  type: 'object',
  properties: { message: { type: 'string' }, key: { type: 'string' } },
} as const;
