/**
 * Whether an update would leave a user as it is. A login hook (pre-login,
 * external auth) answers with the whole user on every login; writing the
 * same account again would bump `updated_at` on each login, fire provider
 * events and actions for nothing and invalidate caches, so the provider
 * compares first (SFTPGo-compatible behaviour the issue asks for: an
 * identical answer is not an update).
 */
import type { User } from './models';

/** Fields the server owns or stamps itself: never part of "the account changed". */
const SERVER_OWNED: ReadonlySet<string> = new Set([
  'id', 'created_at', 'updated_at', 'last_login', 'last_password_change', 'used_quota_size', 'used_quota_files',
  'last_quota_update', 'used_upload_data_transfer', 'used_download_data_transfer', 'first_download', 'first_upload',
]);

/** Absent, null and an empty list or object mean the same to every user field. */
function isEmpty(v: unknown): boolean {
  if (v === undefined || v === null) return true;
  if (Array.isArray(v)) return v.length === 0;
  return typeof v === 'object' && Object.keys(v).length === 0;
}

/** JSON with sorted keys and without empty members, so two records meaning the same give the same text. */
function stable(v: unknown, top: boolean): string {
  if (Array.isArray(v)) return `[${v.map((x) => stable(x, false)).join(',')}]`;
  if (v !== null && typeof v === 'object') {
    const entries = Object.entries(v as Record<string, unknown>)
      .filter(([k, x]) => !isEmpty(x) && !(top && SERVER_OWNED.has(k)))
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, x]) => `${JSON.stringify(k)}:${stable(x, false)}`).join(',')}}`;
  }
  return JSON.stringify(v) ?? 'null';
}

export function sameAccount(candidate: User, stored: User): boolean {
  return stable(candidate, true) === stable(stored, true);
}
