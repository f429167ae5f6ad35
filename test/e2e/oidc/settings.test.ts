/**
 * httpd.bindings[].oidc checks: SFTPGo's start-up refusals (no username
 * field, no redirect base, no "openid" scope, an unreadable secret file, a
 * provider that cannot be read or announces another issuer), claims read with
 * dot notation, the admin role (string or array), implicit roles, custom
 * fields; and the ID token checks of provider.ts against a real oidc-provider
 * (a token for another client, a stale nonce, a forged signature).
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { generateKeyPair, SignJWT } from 'jose';
import type { HttpdBinding } from '../../../src/config/types';
import { OidcProvider } from '../../../src/httpd/oidc/provider';
import { claimAt, identityOf, isAdminRole, oidcEnabled, oidcSettings, type OidcConfig } from '../../../src/httpd/oidc/settings';
import { startIdp, type Idp } from './idp';

const OIDC: OidcConfig = {
  client_id: 'c', client_secret: 's', client_secret_file: '', config_url: 'http://127.0.0.1:1', redirect_base_url: 'https://sftp.example.com/',
  scopes: ['openid', 'profile'], username_field: 'preferred_username', role_field: 'groups', implicit_roles: false,
  custom_fields: [], insecure_skip_signature_check: false, debug: false,
};
const binding = (o: Partial<OidcConfig>): HttpdBinding => ({ oidc: { ...OIDC, ...o } }) as unknown as HttpdBinding;

describe('oidc settings', () => {
  test('enabled only with config_url (as SFTPGo)', () => {
    assert.equal(oidcEnabled(binding({ config_url: '' })), false);
    assert.equal(oidcEnabled(binding({})), true);
  });

  test('refusals name the key', () => {
    const cases: [Partial<OidcConfig>, RegExp][] = [
      [{ username_field: '' }, /httpd\.bindings\[2\]\.oidc\.username_field: cannot be empty/],
      [{ redirect_base_url: '' }, /\.redirect_base_url: cannot be empty/],
      [{ redirect_base_url: 'not a url' }, /\.redirect_base_url: .* not an absolute URL/],
      [{ scopes: ['profile'] }, /\.scopes: the required scope "openid" is not set/],
      [{ client_id: '' }, /\.client_id: cannot be empty/],
      [{ client_secret_file: '/nonexistent/secret' }, /\.client_secret_file: cannot read/],
    ];
    for (const [o, re] of cases) assert.throws(() => oidcSettings(binding(o), 2, '/tmp'), re, JSON.stringify(o));
  });

  test('redirect URL, client_secret_file relative to the config dir, insecure flag only when true', () => {
    const dir = mkdtempSync(join(tmpdir(), 'oidc-settings-'));
    try {
      writeFileSync(join(dir, 'secret.txt'), 'from-file\n');
      const s = oidcSettings(binding({ client_secret_file: 'secret.txt', config_url: 'http://idp.example/realm/' }), 0, dir);
      assert.equal(s.clientSecret, 'from-file');
      assert.equal(s.redirectUrl, 'https://sftp.example.com/web/oidc/redirect');
      assert.equal(s.configUrl, 'http://idp.example/realm');
      assert.equal(s.insecureSkipSignatureCheck, false);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test('claims: dot notation, admin role as string or array, implicit roles, custom fields', () => {
    const claims = { preferred_username: 'bob', realm: { roles: ['user', 'admin'] }, 'a.b': 'literal', dept: 'ops', sid: 'S1' };
    assert.deepEqual(claimAt(claims, 'realm.roles'), ['user', 'admin']);
    assert.equal(claimAt(claims, 'a.b'), 'literal');
    assert.equal(claimAt(claims, 'realm.missing'), undefined);
    assert.equal(claimAt(claims, 'preferred_username.length'), undefined);
    assert.equal(isAdminRole('admin'), true);
    assert.equal(isAdminRole(['x', 'admin']), true);
    assert.equal(isAdminRole('Admin'), false);
    assert.equal(isAdminRole({ admin: true }), false);
    const s = oidcSettings(binding({ role_field: 'realm.roles', custom_fields: ['dept', 'absent'] }), 0, '/tmp');
    assert.deepEqual(identityOf(claims, s, 'client'), { username: 'bob', admin: true, customFields: { dept: 'ops' }, sid: 'S1' });
    const implicit = oidcSettings(binding({ implicit_roles: true }), 0, '/tmp');
    assert.equal((identityOf({ preferred_username: 'x' }, implicit, 'admin') as { admin: boolean }).admin, true);
    assert.equal((identityOf({ preferred_username: 'x', groups: 'admin' }, implicit, 'client') as { admin: boolean }).admin, false);
    assert.match(String(identityOf({ preferred_username: 42 }, s, 'client')), /username field "preferred_username" not found, empty or not a string/);
  });
});

describe('oidc provider checks (real oidc-provider)', () => {
  let idp: Idp;
  before(async () => {
    idp = await startIdp({ redirectUris: ['http://127.0.0.1:9/web/oidc/redirect'], accounts: { u: { preferred_username: 'u' } } });
  });
  after(async () => { await idp?.close(); });

  const settingsFor = (o: Partial<OidcConfig>): ReturnType<typeof oidcSettings> =>
    oidcSettings(binding({ config_url: idp.issuer, client_id: idp.clientId, redirect_base_url: 'http://127.0.0.1:9', ...o }), 0, '/tmp');

  test('discovery: an unreachable provider and another issuer stop start-up', async () => {
    const closed = createServer();
    await new Promise<void>((r) => closed.listen(0, '127.0.0.1', r));
    const port = (closed.address() as AddressInfo).port;
    await new Promise<void>((r) => closed.close(() => r()));
    await assert.rejects(OidcProvider.discover(settingsFor({ config_url: `http://127.0.0.1:${port}` })), /unable to initialize provider/);
    // the same provider reached under another name announces an issuer that is not config_url
    await assert.rejects(OidcProvider.discover(settingsFor({ config_url: idp.issuer.replace('127.0.0.1', 'localhost') })), /issuer did not match/);
    assert.equal((await OidcProvider.discover(settingsFor({}))).hasEndSession, true);
  });

  test('ID tokens: forged signature, other audience, other issuer and stale nonce are refused', async () => {
    const p = await OidcProvider.discover(settingsFor({}));
    const { privateKey } = await generateKeyPair('RS256');
    const now = Math.floor(Date.now() / 1000);
    const forge = (claims: Record<string, unknown>): Promise<string> => new SignJWT({ nonce: 'n1', ...claims })
      .setProtectedHeader({ alg: 'RS256', kid: 'attacker' }).setIssuedAt(now).setExpirationTime(now + 300).sign(privateKey);
    await assert.rejects(p.verifyIdToken(await forge({ iss: idp.issuer, aud: idp.clientId, sub: 'u' }), 'n1'), /failed to verify id token/);
    // the insecure flag, when set on purpose, skips only the signature: audience, issuer and nonce are still checked
    const insecure = await OidcProvider.discover(settingsFor({ insecure_skip_signature_check: true }));
    const claims = await insecure.verifyIdToken(await forge({ iss: idp.issuer, aud: idp.clientId, sub: 'u' }), 'n1');
    assert.equal(claims.sub, 'u');
    await assert.rejects(insecure.verifyIdToken(await forge({ iss: idp.issuer, aud: 'other-client', sub: 'u' }), 'n1'), /unexpected audience/);
    await assert.rejects(insecure.verifyIdToken(await forge({ iss: 'http://evil.example', aud: idp.clientId, sub: 'u' }), 'n1'), /unexpected issuer/);
    await assert.rejects(insecure.verifyIdToken(await forge({ iss: idp.issuer, aud: idp.clientId, sub: 'u' }), 'n2'), /nonce did not match/);
    await assert.rejects(p.verifyIdToken('not.a.jwt', 'n1'), /failed to verify id token/);
  });
});
