/**
 * httpd.bindings[].oidc: SFTPGo's keys, checked at start-up (a binding that
 * asks for OpenID Connect and cannot have it stops the server), and the claim
 * helpers the login uses (dot-notation lookup, the "admin" role value).
 */
import { readFileSync } from 'node:fs';
import { isAbsolute, join } from 'node:path';
import type { HttpdBinding } from '../../config/types';

export type OidcConfig = NonNullable<HttpdBinding['oidc']>;

/** What the login needs, validated, with the client secret read from client_secret_file when set. */
export interface OidcSettings {
  clientId: string;
  clientSecret: string;
  /** the issuer: discovery is read from <config_url>/.well-known/openid-configuration */
  configUrl: string;
  /** redirect_base_url + web_root + /web/oidc/redirect */
  redirectUrl: string;
  usernameField: string;
  roleField: string;
  implicitRoles: boolean;
  scopes: string[];
  customFields: string[];
  /** only when set to true in the configuration: the ID token signature is not checked (issuer, audience, expiry and nonce still are) */
  insecureSkipSignatureCheck: boolean;
  debug: boolean;
}

export const OIDC_REDIRECT_PATH = '/web/oidc/redirect';
export const ADMIN_OIDC_LOGIN_PATH = '/web/admin/oidclogin';
export const CLIENT_OIDC_LOGIN_PATH = '/web/client/oidclogin';
/** SFTPGo: a role claim with this value (or an array holding it) makes the login an admin one */
export const ADMIN_ROLE_VALUE = 'admin';

/** SFTPGo enables OpenID Connect on a binding when config_url is set. */
export function oidcEnabled(binding: HttpdBinding): boolean {
  return (binding.oidc?.config_url ?? '').trim() !== '';
}

/** Throws an Error naming the key for a configuration SFTPGo would refuse too (and for a missing client_id). */
export function oidcSettings(binding: HttpdBinding, index: number, configDir: string, webRoot = ''): OidcSettings {
  const o = binding.oidc;
  const at = `httpd.bindings[${index}].oidc`;
  if (!o) throw new Error(`${at}: not configured`);
  if (o.client_id.trim() === '') throw new Error(`${at}.client_id: cannot be empty`);
  if (o.username_field.trim() === '') throw new Error(`${at}.username_field: cannot be empty`);
  if (o.redirect_base_url.trim() === '') throw new Error(`${at}.redirect_base_url: cannot be empty`);
  if (!o.scopes.includes('openid')) throw new Error(`${at}.scopes: the required scope "openid" is not set`);
  let redirectBase: URL;
  try {
    redirectBase = new URL(o.redirect_base_url);
  } catch {
    throw new Error(`${at}.redirect_base_url: "${o.redirect_base_url}" is not an absolute URL`);
  }
  if (redirectBase.protocol !== 'https:' && redirectBase.protocol !== 'http:') throw new Error(`${at}.redirect_base_url: must be http or https`);
  let clientSecret = o.client_secret;
  if (o.client_secret_file !== '') {
    const file = isAbsolute(o.client_secret_file) ? o.client_secret_file : join(configDir, o.client_secret_file);
    try {
      clientSecret = readFileSync(file, 'utf8').trim();
    } catch (e) {
      throw new Error(`${at}.client_secret_file: cannot read "${file}": ${(e as Error).message}`);
    }
  }
  return {
    clientId: o.client_id,
    clientSecret,
    configUrl: o.config_url.replace(/\/+$/, ''),
    redirectUrl: `${o.redirect_base_url.replace(/\/+$/, '')}${webRoot}${OIDC_REDIRECT_PATH}`,
    usernameField: o.username_field,
    roleField: o.role_field,
    implicitRoles: o.implicit_roles,
    scopes: [...o.scopes],
    customFields: [...o.custom_fields],
    insecureSkipSignatureCheck: o.insecure_skip_signature_check === true,
    debug: o.debug,
  };
}

/** SFTPGo's getOIDCFieldFromClaims: the field itself, else a dot path through nested objects. */
export function claimAt(claims: Record<string, unknown>, field: string): unknown {
  if (field === '') return undefined;
  if (Object.hasOwn(claims, field)) return claims[field];
  if (!field.includes('.')) return undefined;
  let cur: unknown = claims;
  for (const part of field.split('.')) {
    if (typeof cur !== 'object' || cur === null || Array.isArray(cur) || !Object.hasOwn(cur, part)) return undefined;
    cur = (cur as Record<string, unknown>)[part];
  }
  return cur;
}

/** The role claim is "admin", or an array with "admin" in it. */
export function isAdminRole(role: unknown): boolean {
  if (typeof role === 'string') return role === ADMIN_ROLE_VALUE;
  return Array.isArray(role) && role.some((r) => r === ADMIN_ROLE_VALUE);
}

/** What one ID token says about who logs in. */
export interface OidcIdentity {
  username: string;
  admin: boolean;
  /** custom_fields found in the claims (forwarded to the pre-login hook as oidc_custom_fields) */
  customFields?: Record<string, unknown>;
  /** the provider's session id (sid claim), if any */
  sid?: string;
}

/**
 * SFTPGo's parseClaims: the username claim must be a non-empty string; with
 * implicit_roles the login link decides the role, else role_field does.
 */
export function identityOf(claims: Record<string, unknown>, s: OidcSettings, audience: 'admin' | 'client'): OidcIdentity | string {
  const username = claimAt(claims, s.usernameField);
  if (typeof username !== 'string' || username === '') {
    return `username field "${s.usernameField}" not found, empty or not a string, claims fields: ${Object.keys(claims).join(', ')}`;
  }
  const admin = s.implicitRoles ? audience === 'admin' : isAdminRole(claimAt(claims, s.roleField));
  let customFields: Record<string, unknown> | undefined;
  for (const f of s.customFields) {
    const v = claimAt(claims, f);
    if (v !== undefined) (customFields ??= {})[f] = v;
  }
  return { username, admin, customFields, sid: typeof claims.sid === 'string' ? claims.sid : undefined };
}
