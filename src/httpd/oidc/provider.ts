/**
 * The OpenID provider as the relying party sees it: discovery (read once at
 * start-up; the issuer it announces must be config_url, as go-oidc demands),
 * the authorization URL (code flow, PKCE S256, state, nonce), the code
 * exchange at the token endpoint, the ID token check with the provider's JWKS
 * (issuer, audience = client_id, expiry, asymmetric algorithms only, nonce) and
 * the end-session call at logout.
 */
import { createHash, randomBytes } from 'node:crypto';
import type { createRemoteJWKSet, JWTPayload } from 'jose';
import { jwtLib } from '../../util/jwt-lib';
import type { OidcSettings } from './settings';

const HTTP_TIMEOUT_MS = 20_000;
const MAX_RESPONSE_BYTES = 1 << 20;
/** what an ID token may be signed with: the provider's keys, never the shared secret nor "none" */
const ASYMMETRIC_ALGS = ['RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512', 'ES256', 'ES384', 'ES512', 'EdDSA'];
const CLOCK_TOLERANCE_SEC = 60;

interface Discovery {
  issuer: string;
  authorization_endpoint: string;
  token_endpoint: string;
  jwks_uri: string;
  end_session_endpoint?: string;
  token_endpoint_auth_methods_supported?: string[];
  id_token_signing_alg_values_supported?: string[];
}

export interface TokenSet { idToken: string; accessToken: string }

export class OidcError extends Error {}

/** A random URL-safe value (state, nonce, PKCE verifier): 32 bytes. */
export const opaque = (): string => randomBytes(32).toString('base64url');

async function readJson(res: Response, what: string): Promise<Record<string, unknown>> {
  const text = await res.text();
  if (text.length > MAX_RESPONSE_BYTES) throw new OidcError(`${what}: response too large`);
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    throw new OidcError(`${what}: the response is not JSON (status ${res.status})`);
  }
  if (typeof body !== 'object' || body === null || Array.isArray(body)) throw new OidcError(`${what}: the response is not a JSON object`);
  return body as Record<string, unknown>;
}

function httpUrl(v: unknown, field: string): string {
  if (typeof v !== 'string') throw new OidcError(`discovery: ${field} is missing`);
  const u = new URL(v);
  if (u.protocol !== 'https:' && u.protocol !== 'http:') throw new OidcError(`discovery: ${field} is not an http(s) URL`);
  return v;
}

export class OidcProvider {
  private readonly jwks: ReturnType<typeof createRemoteJWKSet>;
  private readonly algorithms: string[];

  private constructor(private readonly s: OidcSettings, private readonly d: Discovery) {
    this.jwks = jwtLib().createRemoteJWKSet(new URL(d.jwks_uri), { timeoutDuration: HTTP_TIMEOUT_MS });
    const announced = (d.id_token_signing_alg_values_supported ?? ['RS256']).filter((a) => ASYMMETRIC_ALGS.includes(a));
    this.algorithms = announced.length > 0 ? announced : ['RS256'];
  }

  /** Reads the discovery document; throws (start-up error) when it cannot be read or does not fit. */
  static async discover(s: OidcSettings): Promise<OidcProvider> {
    const url = `${s.configUrl}/.well-known/openid-configuration`;
    let res: Response;
    try {
      res = await fetch(url, { signal: AbortSignal.timeout(HTTP_TIMEOUT_MS), redirect: 'error' });
    } catch (e) {
      throw new OidcError(`unable to initialize provider for URL "${s.configUrl}": ${(e as Error).message}`);
    }
    if (res.status !== 200) throw new OidcError(`unable to initialize provider for URL "${s.configUrl}": status ${res.status}`);
    const body = await readJson(res, 'discovery');
    const issuer = typeof body.issuer === 'string' ? body.issuer : '';
    if (issuer.replace(/\/+$/, '') !== s.configUrl) {
      throw new OidcError(`issuer did not match the issuer returned by provider, expected "${s.configUrl}" got "${issuer}"`);
    }
    const list = (v: unknown): string[] | undefined => (Array.isArray(v) ? v.filter((x): x is string => typeof x === 'string') : undefined);
    return new OidcProvider(s, {
      issuer,
      authorization_endpoint: httpUrl(body.authorization_endpoint, 'authorization_endpoint'),
      token_endpoint: httpUrl(body.token_endpoint, 'token_endpoint'),
      jwks_uri: httpUrl(body.jwks_uri, 'jwks_uri'),
      end_session_endpoint: typeof body.end_session_endpoint === 'string' ? httpUrl(body.end_session_endpoint, 'end_session_endpoint') : undefined,
      token_endpoint_auth_methods_supported: list(body.token_endpoint_auth_methods_supported),
      id_token_signing_alg_values_supported: list(body.id_token_signing_alg_values_supported),
    });
  }

  get hasEndSession(): boolean { return this.d.end_session_endpoint !== undefined; }

  /** Where the browser goes to log in: code flow, PKCE S256 of `verifier`. */
  authorizationUrl(state: string, nonce: string, verifier: string): string {
    const u = new URL(this.d.authorization_endpoint);
    u.searchParams.set('client_id', this.s.clientId);
    u.searchParams.set('response_type', 'code');
    u.searchParams.set('redirect_uri', this.s.redirectUrl);
    u.searchParams.set('scope', this.s.scopes.join(' '));
    u.searchParams.set('state', state);
    u.searchParams.set('nonce', nonce);
    u.searchParams.set('code_challenge', createHash('sha256').update(verifier).digest('base64url'));
    u.searchParams.set('code_challenge_method', 'S256');
    return u.toString();
  }

  /** The authorization code for tokens; client_secret_basic unless the provider only takes client_secret_post. */
  async exchange(code: string, verifier: string): Promise<TokenSet> {
    const form = new URLSearchParams({ grant_type: 'authorization_code', code, redirect_uri: this.s.redirectUrl, code_verifier: verifier });
    const headers: Record<string, string> = { 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json' };
    const methods = this.d.token_endpoint_auth_methods_supported ?? ['client_secret_basic'];
    if (this.s.clientSecret === '') {
      form.set('client_id', this.s.clientId);
    } else if (!methods.includes('client_secret_basic') && methods.includes('client_secret_post')) {
      form.set('client_id', this.s.clientId);
      form.set('client_secret', this.s.clientSecret);
    } else {
      // RFC 6749 2.3.1: both parts form-urlencoded before base64
      const basic = `${encodeURIComponent(this.s.clientId)}:${encodeURIComponent(this.s.clientSecret)}`;
      headers.authorization = `Basic ${Buffer.from(basic).toString('base64')}`;
    }
    const res = await fetch(this.d.token_endpoint, { method: 'POST', headers, body: form, signal: AbortSignal.timeout(HTTP_TIMEOUT_MS), redirect: 'error' });
    const body = await readJson(res, 'token endpoint');
    if (res.status !== 200) throw new OidcError(`token endpoint: status ${res.status}, error "${String(body.error ?? '')}"`);
    if (typeof body.id_token !== 'string' || body.id_token === '') throw new OidcError('no id_token field in OAuth2 OpenID token');
    return { idToken: body.id_token, accessToken: typeof body.access_token === 'string' ? body.access_token : '' };
  }

  /** The verified claims of an ID token, or an OidcError saying why it is refused. */
  async verifyIdToken(raw: string, nonce: string): Promise<Record<string, unknown>> {
    let claims: JWTPayload;
    try {
      claims = this.s.insecureSkipSignatureCheck ? this.checkUnverified(raw)
        : (await jwtLib().jwtVerify(raw, this.jwks, { issuer: this.d.issuer, audience: this.s.clientId, algorithms: this.algorithms, clockTolerance: CLOCK_TOLERANCE_SEC })).payload;
    } catch (e) {
      if (e instanceof OidcError) throw e;
      const why = e instanceof jwtLib().errors.JOSEError ? `${e.code}: ${e.message}` : (e as Error).message;
      throw new OidcError(`failed to verify id token: ${why}`);
    }
    if (claims.nonce !== nonce) throw new OidcError('oidc authentication nonce did not match');
    return claims as Record<string, unknown>;
  }

  /** insecure_skip_signature_check: everything but the signature, as go-oidc does. */
  private checkUnverified(raw: string): JWTPayload {
    const claims = jwtLib().decodeJwt(raw);
    if (claims.iss !== this.d.issuer) throw new OidcError('failed to verify id token: unexpected issuer');
    const aud = Array.isArray(claims.aud) ? claims.aud : [claims.aud];
    if (!aud.includes(this.s.clientId)) throw new OidcError('failed to verify id token: unexpected audience');
    if (typeof claims.exp !== 'number' || claims.exp + CLOCK_TOLERANCE_SEC < Date.now() / 1000) throw new OidcError('failed to verify id token: expired');
    return claims;
  }

  /** SFTPGo's logoutFromOIDCOP: GET end_session_endpoint?id_token_hint=…; the outcome is only logged. */
  async endSession(idToken: string): Promise<number | undefined> {
    if (!this.d.end_session_endpoint) return undefined;
    const u = new URL(this.d.end_session_endpoint);
    if (idToken !== '') u.searchParams.set('id_token_hint', idToken);
    const res = await fetch(u, { signal: AbortSignal.timeout(HTTP_TIMEOUT_MS), redirect: 'manual' });
    await res.arrayBuffer().catch(() => undefined);
    return res.status;
  }
}
