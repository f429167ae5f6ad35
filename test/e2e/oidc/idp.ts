/**
 * A real OpenID provider for the tests: panva's oidc-provider (ESM-only,
 * loaded with import()) on a free 127.0.0.1 port, one confidential client,
 * its development login/consent pages (any password), the accounts' claims
 * in the ID token, PKCE required. A Koa middleware in front of the token
 * endpoint can tamper with the ID token it returns (the attacks the relying
 * party must refuse), and every end-session call is recorded.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Page } from 'playwright-core';

export type Tamper = 'none' | 'payload' | 'unsigned';

export interface Idp {
  issuer: string;
  clientId: string;
  clientSecret: string;
  /** what the next token responses do to the ID token */
  tamper: Tamper;
  /** id_token_hint values received at the end-session endpoint */
  endSessionHints: string[];
  /** when true, the redirect back to the relying party is not sent: its URL lands in heldCallbacks */
  holdCallbacks: boolean;
  heldCallbacks: string[];
  close(): Promise<void>;
}

interface KoaCtx {
  path: string; method: string; query: Record<string, unknown>; body: unknown; status: number;
  response: { get(name: string): string; remove(name: string): void };
}
interface ProviderInstance {
  use(mw: (ctx: KoaCtx, next: () => Promise<void>) => Promise<void>): void;
  callback(): (req: unknown, res: unknown) => void;
}
type ProviderCtor = new (issuer: string, config: Record<string, unknown>) => ProviderInstance;

const b64 = (v: unknown): string => Buffer.from(JSON.stringify(v)).toString('base64url');

/** A token whose claims were changed after signing (signature no longer matches), or re-issued unsigned (alg "none"). */
export function tamperToken(token: string, how: Exclude<Tamper, 'none'>, change: (c: Record<string, unknown>) => void): string {
  const [header, payload, signature] = token.split('.');
  const claims = JSON.parse(Buffer.from(payload!, 'base64url').toString('utf8')) as Record<string, unknown>;
  change(claims);
  if (how === 'payload') return `${header}.${b64(claims)}.${signature}`;
  return `${b64({ alg: 'none', typ: 'JWT' })}.${b64(claims)}.`;
}

export async function startIdp(opts: {
  redirectUris: string[];
  accounts: Record<string, Record<string, unknown>>;
  /** how a tampered token is changed (default: role promoted to admin) */
  change?: (c: Record<string, unknown>) => void;
}): Promise<Idp> {
  // the package ships no types: the few members used are typed above
  const specifier: string = 'oidc-provider';
  const mod = (await import(specifier)) as { default: ProviderCtor };
  const server: Server = createServer();
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const issuer = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const clientId = 'sftpgo-test';
  const clientSecret = 'sftpgo-test-secret-0123456789';
  const claimNames = [...new Set(Object.values(opts.accounts).flatMap((a) => Object.keys(a)))].filter((k) => k !== 'sub');
  const provider = new mod.default(issuer, {
    clients: [{
      client_id: clientId, client_secret: clientSecret, redirect_uris: opts.redirectUris,
      response_types: ['code'], grant_types: ['authorization_code'], token_endpoint_auth_method: 'client_secret_basic',
    }],
    async findAccount(_ctx: unknown, id: string) {
      const claims = opts.accounts[id];
      if (!claims) return undefined;
      return { accountId: id, claims: async () => ({ sub: id, ...claims }) };
    },
    claims: { openid: ['sub'], profile: claimNames },
    // the claims go in the ID token (the relying party reads only the ID token, as SFTPGo)
    conformIdTokenClaims: false,
    pkce: { required: () => true },
    features: { devInteractions: { enabled: true }, rpInitiatedLogout: { enabled: true } },
    cookies: { keys: ['oidc-test-cookie-key-0123456789'] },
  });
  const idp: Idp = {
    issuer, clientId, clientSecret, tamper: 'none', endSessionHints: [], holdCallbacks: false, heldCallbacks: [],
    close: () => new Promise<void>((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    }),
  };
  const change = opts.change ?? ((c: Record<string, unknown>): void => { c.sftpgo = { role: 'admin' }; });
  provider.use(async (ctx, next) => {
    if (ctx.path === '/session/end' && typeof ctx.query.id_token_hint === 'string') idp.endSessionHints.push(ctx.query.id_token_hint);
    await next();
    const location = ctx.status >= 300 && ctx.status < 400 ? ctx.response.get('location') : '';
    if (idp.holdCallbacks && location !== '' && opts.redirectUris.some((u) => location.startsWith(u))) {
      idp.heldCallbacks.push(location);
      ctx.response.remove('location');
      ctx.status = 200;
      ctx.body = 'callback held by the test';
    }
    if (ctx.path === '/token' && ctx.method === 'POST' && idp.tamper !== 'none') {
      const body = ctx.body as { id_token?: string };
      if (body && typeof body.id_token === 'string') body.id_token = tamperToken(body.id_token, idp.tamper, change);
    }
  });
  server.on('request', provider.callback());
  return idp;
}

/** On the provider's development pages (/interaction/…): sign in as `account` (any password), then consent; bounded. */
export async function signInAtIdp(page: Page, idp: Idp, account: string, waitMs: number): Promise<void> {
  for (let step = 0; step < 4; step++) {
    await page.waitForLoadState('domcontentloaded');
    if (!page.url().startsWith(`${idp.issuer}/interaction/`)) return;
    const login = page.locator('input[name="login"]');
    if (await login.count() > 0) {
      await login.fill(account);
      await page.locator('input[name="password"]').fill('any-password');
    }
    const here = page.url();
    await Promise.all([
      page.waitForURL((u) => u.toString() !== here, { timeout: waitMs, waitUntil: 'commit' }),
      page.locator('button[type="submit"]').first().click(),
    ]);
  }
}
