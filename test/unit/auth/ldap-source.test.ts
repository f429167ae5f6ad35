/**
 * The LDAP source against Debian's slapd started by the test: filter
 * escaping (no LDAP injection), entry lookup as the search user, the bind as
 * the user, group mapping, accounts created from the template, the
 * cache_time memory with an injected clock (a changed password takes effect
 * after it), a stopped or silent server refused after the timeout, start-up
 * checks of the section. Passwords never reach the log.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Socket } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { checkLdap, createLdapSource, DirectoryError, escapeFilterValue, userFilter } from '../../../src/auth/ldap';
import type { AppConfig } from '../../../src/config/types';
import { openDataProvider } from '../../../src/dataprovider/index';
import type { DataProviderService } from '../../../src/dataprovider/types';
import { defaultConfig, RecordingLogger, allLogText } from '../hooks/support';
import { providerConfig } from '../dataprovider/support';
import { loadConfig } from '../../../src/config';
import { BASE_DN, groupDn, SEARCH_DN, SEARCH_PW, slapdAvailable, startSlapd, type Slapd } from '../../support/slapd';

let slapd: Slapd;
const dir = mkdtempSync(path.join(os.tmpdir(), 'ldap-unit-'));

before(async () => {
  assert.ok(slapdAvailable(), 'slapd and ldap-utils must be installed (.ci/run installs them)');
  slapd = await startSlapd();
  await slapd.addUser({ uid: 'alice', password: 'alice-pw-1', groups: ['writers'] });
  await slapd.addUser({ uid: 'bob', password: 'bob-pw-1' });
  await slapd.addUser({ uid: 'carol', password: 'carol-pw-1', groups: ['auditors'] });
});
after(async () => {
  await slapd?.stop();
  rmSync(dir, { recursive: true, force: true });
});

function ldapConfig(edit?: (c: AppConfig) => void): AppConfig {
  return defaultConfig((c) => {
    c.ldap.urls = [slapd.url];
    c.ldap.base_dn = BASE_DN;
    c.ldap.bind_dn = SEARCH_DN;
    c.ldap.bind_password = SEARCH_PW;
    c.ldap.search_query = '(&(objectClass=inetOrgPerson)(uid=%username%))';
    c.ldap.users_base_dir = path.join(dir, 'homes');
    c.ldap.timeout = 10; // generous: a loaded machine must not turn a slow answer into a refusal
    c.ldap.user_template.permissions = ['list', 'download'];
    c.ldap.group_permissions = [
      { group: groupDn('writers'), path: '/', permissions: ['*'] },
      { group: groupDn('auditors'), path: '/audit', permissions: ['list', 'download', 'upload'] },
    ];
    edit?.(c);
  });
}

async function fixture(t: { after: (fn: () => Promise<void>) => void }, edit?: (c: AppConfig) => void, now?: () => number) {
  const config = ldapConfig(edit);
  checkLdap(config, dir);
  const logger = new RecordingLogger();
  const provider: DataProviderService = await openDataProvider({
    config: providerConfig({ driver: 'memory', name: '' }), configDir: dir, logger: new RecordingLogger(), migrate: true, env: {},
  });
  t.after(() => provider.close());
  const source = createLdapSource({ config, configDir: dir, logger, provider, ...(now ? { now } : {}) });
  assert.ok(source);
  return { source, provider, logger };
}

test('RFC 4515 escaping: wildcards and parentheses in a login name match themselves', () => {
  assert.equal(escapeFilterValue('a*b(c)d\\e\u0000'), 'a\\2ab\\28c\\29d\\5ce\\00');
  assert.equal(userFilter('(&(objectClass=user)(uid=%username%))', ')(uid=*'), '(&(objectClass=user)(uid=\\29\\28uid=\\2a))');
  assert.equal(userFilter('(|(uid=%username%)(mail=%username%))', 'x*'), '(|(uid=x\\2a)(mail=x\\2a))');
});

test('a directory user: found as the search user, password checked by a bind, account made from the template and groups', async (t) => {
  const { source, provider } = await fixture(t);
  const alice = await source.resolve('alice');
  assert.equal(alice.dn, `uid=alice,ou=people,${BASE_DN}`);
  assert.equal(alice.user.home_dir, path.join(dir, 'homes', 'alice'));
  assert.deepEqual(alice.user.permissions, { '/': ['*'] });
  assert.equal(await source.checkPassword('alice', alice, 'alice-pw-1'), 'bound');
  await assert.rejects(source.checkPassword('alice', alice, 'wrong'), (e: unknown) => e instanceof DirectoryError && e.reason === 'refused');
  // an empty password is never sent (an anonymous bind would succeed)
  await assert.rejects(source.checkPassword('alice', alice, ''), (e: unknown) => e instanceof DirectoryError && e.reason === 'refused');
  const bob = await source.resolve('bob');
  assert.deepEqual(bob.user.permissions, { '/': ['download', 'list'] });
  const carol = await source.resolve('carol');
  assert.deepEqual(carol.user.permissions, { '/': ['download', 'list'], '/audit': ['download', 'list', 'upload'] });
  assert.ok(await provider.getUser('carol'));
});

test('LDAP injection: wildcards and filter fragments in the login name find nothing', async (t) => {
  const { source, provider } = await fixture(t);
  for (const name of ['*', 'a*', ')(uid=*', '*)(|(uid=*', 'alice)(uid=*', '\\2a']) {
    await assert.rejects(source.resolve(name), (e: unknown) => e instanceof DirectoryError && e.reason === 'not-found', name);
  }
  assert.deepEqual(await provider.listUsers(), []);
});

test('two first logins at once make one account; a query selecting several entries is refused, never a login', async (t) => {
  await slapd.addUser({ uid: 'frank', password: 'frank-pw-1' });
  const { source, provider } = await fixture(t);
  const [a, b] = await Promise.all([source.resolve('frank'), source.resolve('frank')]);
  assert.equal(a.user.id, b.user.id);
  assert.equal((await provider.listUsers()).filter((u) => u.username === 'frank').length, 1);
  const { source: loose } = await fixture(t, (c) => { c.ldap.search_query = '(|(uid=%username%)(objectClass=inetOrgPerson))'; });
  await assert.rejects(loose.resolve('frank'), (e: unknown) => e instanceof DirectoryError && e.reason === 'ambiguous');
});

test('group changes in the directory update the permissions; require_groups refuses entries in no mapped group', async (t) => {
  const { source } = await fixture(t, (c) => { c.ldap.require_groups = true; });
  await assert.rejects(source.resolve('bob'), (e: unknown) => e instanceof DirectoryError && e.reason === 'refused');
  await slapd.addUser({ uid: 'dave', password: 'dave-pw-1', groups: ['auditors'] });
  assert.deepEqual((await source.resolve('dave')).user.permissions['/audit'], ['download', 'list', 'upload']);
  await slapd.modify([`dn: ${groupDn('writers')}`, 'changetype: modify', 'add: member', `member: uid=dave,ou=people,${BASE_DN}`, ''].join('\n'));
  assert.deepEqual((await source.resolve('dave')).user.permissions['/'], ['*']);
});

test('cache_time: the accepted password is reused until it expires, then a password changed in the directory takes effect', async (t) => {
  let clock = 1_000_000;
  await slapd.addUser({ uid: 'erin', password: 'erin-old' });
  const { source, logger } = await fixture(t, (c) => { c.ldap.cache_time = 60; }, () => clock);
  const r = await source.resolve('erin');
  assert.equal(await source.checkPassword('erin', r, 'erin-old'), 'bound');
  await slapd.setPassword('erin', 'erin-new');
  clock += 30_000;
  // within cache_time: the old password is remembered, the new one is checked by a bind
  assert.equal(await source.checkPassword('erin', await source.resolve('erin'), 'erin-old'), 'remembered');
  assert.equal(await source.checkPassword('erin', await source.resolve('erin'), 'erin-new'), 'bound');
  await assert.rejects(source.checkPassword('erin', await source.resolve('erin'), 'erin-old'), DirectoryError);
  clock += 61_000;
  await assert.rejects(source.checkPassword('erin', await source.resolve('erin'), 'erin-old'), DirectoryError);
  assert.equal(await source.checkPassword('erin', await source.resolve('erin'), 'erin-new'), 'bound');
  const text = allLogText(logger);
  for (const secret of ['erin-old', 'erin-new', SEARCH_PW]) assert.ok(!text.includes(secret), `${secret} logged`);
});

test('the server stopped or silent: a refusal after the timeout, no hang; a second URL takes over', async (t) => {
  const silent = createServer((s: Socket) => { s.on('error', () => undefined); });
  const sockets = new Set<Socket>();
  silent.on('connection', (s) => { sockets.add(s); s.on('close', () => sockets.delete(s)); });
  await new Promise<void>((r) => silent.listen(0, '127.0.0.1', () => r()));
  t.after(() => new Promise<void>((r) => { for (const s of sockets) s.destroy(); silent.close(() => r()); }));
  const silentUrl = `ldap://127.0.0.1:${(silent.address() as { port: number }).port}`;
  const { source: stuck } = await fixture(t, (c) => { c.ldap.urls = [silentUrl]; c.ldap.timeout = 1; });
  await assert.rejects(stuck.resolve('alice'), (e: unknown) => e instanceof DirectoryError && e.reason === 'unavailable');
  const { source: failover } = await fixture(t, (c) => { c.ldap.urls = ['ldap://127.0.0.1:1', slapd.url]; });
  assert.equal((await failover.resolve('alice')).dn, `uid=alice,ou=people,${BASE_DN}`);
  const { source } = await fixture(t);
  const alice = await source.resolve('alice');
  await slapd.halt();
  try {
    await assert.rejects(source.resolve('alice'), (e: unknown) => e instanceof DirectoryError && e.reason === 'unavailable');
    await assert.rejects(source.checkPassword('alice', alice, 'alice-pw-1'), (e: unknown) => e instanceof DirectoryError && e.reason === 'unavailable');
  } finally {
    await slapd.start();
  }
  assert.equal(await source.checkPassword('alice', await source.resolve('alice'), 'alice-pw-1'), 'bound');
});

test('a wrong search user password is reported as a configuration problem, not as the user\'s', async (t) => {
  const { source } = await fixture(t, (c) => { c.ldap.bind_password = 'not-it'; });
  await assert.rejects(source.resolve('alice'), (e: unknown) => e instanceof DirectoryError && e.reason === 'unavailable' && /bind_dn/.test(e.message));
});

test('start-up checks: a section that cannot work names its key', () => {
  const bad: [string, (c: AppConfig) => void][] = [
    ['ldap.base_dn', (c) => { c.ldap.base_dn = ''; }],
    ['ldap.search_query', (c) => { c.ldap.search_query = '(uid=alice)'; }],
    ['ldap.bind_password', (c) => { c.ldap.bind_password = ''; }],
    ['ldap.users_base_dir', (c) => { c.ldap.users_base_dir = 'relative/homes'; }],
    ['ldap.urls[0]', (c) => { c.ldap.urls = ['http://127.0.0.1']; }],
    ['ldap.urls[0]', (c) => { c.ldap.urls = ['ldaps://127.0.0.1']; c.ldap.start_tls = true; }],
    ['ldap.ca_certificates[0]', (c) => { c.ldap.ca_certificates = ['/nonexistent/ca.pem']; }],
    ['ldap.group_permissions[0].permissions', (c) => { c.ldap.group_permissions = [{ group: 'cn=x', path: '/', permissions: ['fly'] }]; }],
    ['external_auth_hook', (c) => { c.data_provider.external_auth_hook = '/bin/true'; }],
  ];
  for (const [key, edit] of bad) assert.throws(() => checkLdap(ldapConfig(edit), dir), (e: unknown) => e instanceof Error && e.message.includes(key), key);
  assert.doesNotThrow(() => checkLdap(defaultConfig(), dir), 'off by default');
});

test('SFTPGO_LDAP__* environment overrides work like every other section (lists, nested keys, list of structs)', () => {
  const c = loadConfig({ configDir: dir, env: {
    SFTPGO_LDAP__URLS: 'ldap://dc1.example.org,ldap://dc2.example.org',
    SFTPGO_LDAP__BIND_PASSWORD: 'from-env',
    SFTPGO_LDAP__START_TLS: 'true',
    SFTPGO_LDAP__CACHE_TIME: '90',
    SFTPGO_LDAP__USER_TEMPLATE__QUOTA_SIZE: '1048576',
    SFTPGO_LDAP__USER_TEMPLATE__PERMISSIONS: 'list,download',
    SFTPGO_LDAP__GROUP_PERMISSIONS__0__GROUP: 'cn=writers,ou=groups,dc=example,dc=org',
    SFTPGO_LDAP__GROUP_PERMISSIONS__0__PERMISSIONS: '*',
  } });
  assert.deepEqual(c.ldap.urls, ['ldap://dc1.example.org', 'ldap://dc2.example.org']);
  assert.equal(c.ldap.bind_password, 'from-env');
  assert.equal(c.ldap.start_tls, true);
  assert.equal(c.ldap.cache_time, 90);
  assert.equal(c.ldap.user_template.quota_size, 1048576);
  assert.deepEqual(c.ldap.user_template.permissions, ['list', 'download']);
  assert.deepEqual(c.ldap.group_permissions, [{ group: 'cn=writers,ou=groups,dc=example,dc=org', path: '/', permissions: ['*'] }]);
  assert.deepEqual(loadConfig({ configDir: dir, env: {} }).ldap.urls, [], 'off by default');
});

test('TLS: ldaps:// and StartTLS verify the server with ca_certificates; an unknown CA is refused unless skip_tls_verify', { timeout: 120_000 }, async (t) => {
  const tls = await startSlapd({ tls: true });
  t.after(() => tls.stop());
  await tls.addUser({ uid: 'tina', password: 'tina-pw-1' });
  assert.ok(tls.ldapsUrl && tls.caFile);
  const ldaps = { urls: [tls.ldapsUrl], ca_certificates: [tls.caFile] };
  const { source } = await fixture(t, (c) => Object.assign(c.ldap, ldaps));
  const r = await source.resolve('tina');
  assert.equal(await source.checkPassword('tina', r, 'tina-pw-1'), 'bound');
  const { source: startTls } = await fixture(t, (c) => Object.assign(c.ldap, { urls: [tls.url], start_tls: true, ca_certificates: [tls.caFile] }));
  assert.equal(await startTls.checkPassword('tina', await startTls.resolve('tina'), 'tina-pw-1'), 'bound');
  const { source: untrusted } = await fixture(t, (c) => Object.assign(c.ldap, { urls: [tls.ldapsUrl] }));
  await assert.rejects(untrusted.resolve('tina'), (e: unknown) => e instanceof DirectoryError && e.reason === 'unavailable');
  const { source: untrustedStartTls } = await fixture(t, (c) => Object.assign(c.ldap, { urls: [tls.url], start_tls: true }));
  await assert.rejects(untrustedStartTls.resolve('tina'), (e: unknown) => e instanceof DirectoryError && e.reason === 'unavailable');
  const { source: skip } = await fixture(t, (c) => Object.assign(c.ldap, { urls: [tls.ldapsUrl], skip_tls_verify: true }));
  assert.equal((await skip.resolve('tina')).dn, `uid=tina,ou=people,${BASE_DN}`);
});
