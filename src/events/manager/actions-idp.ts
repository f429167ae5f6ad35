/**
 * SFTPGo's Identity Provider account check action (ActionTypeIDPAccountCheck),
 * run synchronously on an OpenID Connect login: the user or admin template
 * (JSON with placeholders, values JSON-escaped) becomes the account, created
 * when missing, or updated unless the mode is 1 ("create only"). Updates keep
 * what the account owns, as SFTPGo's preserveUserProfile: password, public
 * keys, TLS certificates, description and emails where the user may change
 * them, second factors; admins keep their password and second factors. The
 * provider validates the result like any API input.
 */
import { randomBytes } from 'node:crypto';
import type { Admin, User } from '../../dataprovider/models';
import type { DataProviderService } from '../../dataprovider/types';

const SYSTEM = { username: '__system__', ip: '', reportSystemChange: true };

function parseTemplate(text: string, what: string): Record<string, unknown> {
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch (e) {
    throw new Error(`invalid ${what} template: ${(e as Error).message}`);
  }
  if (typeof v !== 'object' || v === null || Array.isArray(v)) throw new Error(`invalid ${what} template: not a JSON object`);
  return v as Record<string, unknown>;
}

const denies = (u: Record<string, unknown>, option: string): boolean => {
  const f = u.filters as { web_client?: unknown } | undefined;
  return Array.isArray(f?.web_client) && f.web_client.includes(option);
};

/** SFTPGo preserveUserProfile: what the stored user changed by itself survives the template. */
function preserveUserProfile(stored: User, next: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = { ...next };
  const filters: Record<string, unknown> = { ...((next.filters ?? {}) as Record<string, unknown>) };
  if (!denies(next, 'password-change-disabled') && stored.password) out.password = stored.password;
  if (!denies(next, 'publickey-change-disabled') && (stored.public_keys ?? []).length > 0) out.public_keys = stored.public_keys;
  if (!denies(next, 'tls-cert-change-disabled') && (stored.filters?.tls_certs ?? []).length > 0) filters.tls_certs = stored.filters?.tls_certs;
  if (!denies(next, 'info-change-disabled')) {
    if (stored.description) out.description = stored.description;
    if (stored.email) out.email = stored.email;
    if ((stored.filters?.additional_emails ?? []).length > 0) filters.additional_emails = stored.filters?.additional_emails;
  }
  if (!denies(next, 'api-key-auth-change-disabled')) filters.allow_api_key_auth = stored.filters?.allow_api_key_auth;
  out.filters = filters;
  return out;
}

export async function checkIdpUser(provider: DataProviderService, username: string, mode: number, template: string): Promise<User> {
  const stored = await provider.getUser(username);
  if (stored && mode === 1) return provider.groups.withGroupSettings(stored);
  if (template === '') throw new Error('no user template configured');
  const next = parseTemplate(template, 'user');
  if (stored) await provider.updateUser(username, preserveUserProfile(stored, next), SYSTEM, { skipUnchanged: true });
  else await provider.addUser(next, SYSTEM);
  const saved = await provider.getUser(username);
  if (!saved) throw new Error(`user "${username}" does not exist after the account check (the template names another user?)`);
  return provider.groups.withGroupSettings(saved);
}

export async function checkIdpAdmin(provider: DataProviderService, username: string, mode: number, template: string): Promise<Admin> {
  const stored = await provider.getAdmin(username);
  if (stored && mode === 1) return stored;
  if (template === '') throw new Error('no admin template configured');
  const next = parseTemplate(template, 'admin');
  if (stored) {
    // an empty password keeps the stored hash; second factors change only through their own endpoints
    await provider.updateAdmin(username, { ...next, password: typeof next.password === 'string' && next.password !== '' ? next.password : '' }, SYSTEM);
  } else {
    await provider.addAdmin({ ...next, password: typeof next.password === 'string' && next.password !== '' ? next.password : randomBytes(24).toString('base64url') }, SYSTEM);
  }
  const saved = await provider.getAdmin(username);
  if (!saved) throw new Error(`admin "${username}" does not exist after the account check (the template names another admin?)`);
  return saved;
}
