/**
 * The LDAP auth source end to end: the whole application (startApp) with
 * SFTP, FTP and WebDAV, against Debian's slapd started by the test on a free
 * loopback port, driven by real clients: OpenSSH sftp with a password
 * (sshpass, password and keyboard-interactive) and with a key stored in the
 * directory, lftp, curl. Wrong passwords, LDAP injection attempts and a
 * stopped directory are refused with a log line; group membership decides
 * the permissions; a password changed in the directory takes effect at once
 * with cache_time 0. No password ever reaches the log.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { startHooksEnv, type HooksEnv } from '../hooks/env';
import { generateTotpSecret, totpCode } from '../../../src/mfa/totp';
import { BASE_DN, groupDn, SEARCH_DN, SEARCH_PW, slapdAvailable, startSlapd, type Slapd } from '../../support/slapd';

let slapd: Slapd;
let env: HooksEnv;

before(async () => {
  assert.ok(slapdAvailable(), 'slapd and ldap-utils must be installed (.ci/run installs them)');
  slapd = await startSlapd();
  env = await startHooksEnv((c, dir) => {
    c.ldap.urls = [slapd.url];
    c.ldap.base_dn = BASE_DN;
    c.ldap.bind_dn = SEARCH_DN;
    c.ldap.bind_password = SEARCH_PW;
    c.ldap.search_query = '(&(objectClass=inetOrgPerson)(uid=%username%))';
    c.ldap.public_keys_attribute = 'sshPublicKey';
    c.ldap.users_base_dir = join(dir, 'homes');
    c.ldap.timeout = 15;
    c.ldap.user_template.permissions = ['list', 'download'];
    c.ldap.group_permissions = [{ group: groupDn('writers'), path: '/', permissions: ['*'] }];
  });
  await slapd.addUser({ uid: 'alice', password: 'alice-pw-1', groups: ['writers'] });
  await slapd.addUser({ uid: 'bob', password: 'bob-pw-1' });
  await slapd.addUser({ uid: 'kate', password: 'kate-pw-1', groups: ['writers'], sshKeys: [env.key.publicKey.trim()] });
});

after(async () => {
  await env?.stop();
  await slapd?.stop();
});

const home = (u: string): string => join(env.dir, 'homes', u);

test('SFTP with the directory password creates the account; a writer may write, a wrong password is refused', { timeout: 120_000 }, async () => {
  const ok = await env.sftpPassword('alice', 'alice-pw-1', ['mkdir by-sftp']);
  assert.equal(ok.status, 0, ok.stderr);
  assert.ok(existsSync(join(home('alice'), 'by-sftp')));
  const stored = await env.app.ctx.provider.getUser('alice');
  assert.deepEqual(stored?.permissions, { '/': ['*'] });
  assert.notEqual((await env.sftpPassword('alice', 'alice-pw-2', ['pwd'])).status, 0);
  const ki = await env.sftpPassword('alice', 'alice-pw-1', ['mkdir by-ki'], 'keyboard-interactive');
  assert.equal(ki.status, 0, ki.stderr);
  assert.ok(existsSync(join(home('alice'), 'by-ki')));
});

test('group mapping: a user in no mapped group gets the template (list, download) only', { timeout: 120_000 }, async () => {
  const list = await env.sftpPassword('bob', 'bob-pw-1', ['ls']);
  assert.equal(list.status, 0, list.stderr);
  const write = await env.sftpPassword('bob', 'bob-pw-1', ['mkdir not-allowed']);
  assert.notEqual(write.status, 0);
  assert.ok(!existsSync(join(home('bob'), 'not-allowed')));
  // joining the group in the directory gives the rights at the next login
  await slapd.modify([`dn: ${groupDn('writers')}`, 'changetype: modify', 'add: member', `member: uid=bob,ou=people,${BASE_DN}`, ''].join('\n'));
  const again = await env.sftpPassword('bob', 'bob-pw-1', ['mkdir now-allowed']);
  assert.equal(again.status, 0, again.stderr);
});

test('SFTP with a key stored in the directory, on the very first login', { timeout: 120_000 }, async () => {
  assert.equal(await env.app.ctx.provider.getUser('kate'), undefined);
  const r = await env.sftpKey('kate', 'mkdir by-key');
  assert.equal(r.status, 0, r.stderr);
  assert.ok(existsSync(join(home('kate'), 'by-key')));
  // the key removed from the directory: refused at the next login
  await slapd.modify([`dn: uid=kate,ou=people,${BASE_DN}`, 'changetype: modify', 'delete: sshPublicKey', ''].join('\n'));
  assert.notEqual((await env.sftpKey('kate', 'pwd')).status, 0);
  // a key the directory never had is refused for a user the directory knows
  assert.notEqual((await env.sftpKey('alice', 'pwd')).status, 0);
});

test('FTP (lftp) and WebDAV (curl) with the directory password', { timeout: 120_000 }, async () => {
  const ftp = await env.lftp('alice', 'alice-pw-1', 'mkdir by-ftp');
  assert.equal(ftp.status, 0, ftp.stderr);
  assert.ok(existsSync(join(home('alice'), 'by-ftp')));
  assert.notEqual((await env.lftp('alice', 'wrong-pw', 'ls')).status, 0);
  assert.equal(await env.dav('alice', 'alice-pw-1', 'MKCOL', '/by-dav'), 201);
  assert.ok(existsSync(join(home('alice'), 'by-dav')));
  assert.equal(await env.dav('alice', 'wrong-pw', 'PROPFIND', '/'), 401);
});

test('LDAP injection in the login name is refused everywhere and creates nothing', { timeout: 120_000 }, async () => {
  for (const name of ['*', 'a*', ')(uid=*', '*)(|(uid=*']) {
    assert.notEqual((await env.sftpPassword(name, 'alice-pw-1', ['pwd'])).status, 0, name);
    assert.equal(await env.dav(name, 'alice-pw-1', 'PROPFIND', '/'), 401, name);
  }
  assert.notEqual((await env.lftp('*', 'alice-pw-1', 'ls')).status, 0);
  const names = (await env.app.ctx.provider.listUsers()).map((u) => u.username).sort();
  assert.ok(names.every((n) => ['alice', 'bob', 'kate'].includes(n)), names.join(','));
});

test('a password changed in the directory takes effect at once with cache_time 0', { timeout: 120_000 }, async () => {
  await slapd.addUser({ uid: 'paul', password: 'paul-old-pw' });
  assert.equal((await env.sftpPassword('paul', 'paul-old-pw', ['pwd'])).status, 0);
  await slapd.setPassword('paul', 'paul-new-pw');
  assert.notEqual((await env.sftpPassword('paul', 'paul-old-pw', ['pwd'])).status, 0);
  assert.equal((await env.sftpPassword('paul', 'paul-new-pw', ['pwd'])).status, 0);
  assert.equal(await env.dav('paul', 'paul-old-pw', 'PROPFIND', '/'), 401);
});

test('the rest of the pipeline applies unchanged: TOTP for FTP on a directory user, kept when the directory changes the account', { timeout: 120_000 }, async () => {
  const secret = generateTotpSecret();
  // as the 2FA endpoints do (second factors are not part of a user update)
  await env.app.ctx.provider.saveSecondFactor('user', 'alice', {
    totp_config: { enabled: true, config_name: 'Default', secret: { status: 'Plain', payload: secret }, protocols: ['FTP'] },
  });
  assert.notEqual((await env.lftp('alice', 'alice-pw-1', 'ls')).status, 0, 'the directory password alone is not enough');
  const withCode = await env.lftp('alice', `alice-pw-1${totpCode(secret, 'sha1', Date.now())}`, 'mkdir with-totp');
  assert.equal(withCode.status, 0, withCode.stderr);
  assert.ok(existsSync(join(home('alice'), 'with-totp')));
  // leaving the group changes the permissions: the account is rewritten, the second factor stays
  await slapd.modify([`dn: ${groupDn('writers')}`, 'changetype: modify', 'delete: member', `member: uid=alice,ou=people,${BASE_DN}`, ''].join('\n'));
  assert.equal(await env.dav('alice', 'alice-pw-1', 'MKCOL', '/no-longer'), 403);
  const after = await env.app.ctx.provider.getUser('alice');
  assert.deepEqual(after?.permissions, { '/': ['download', 'list'] });
  assert.equal(after?.filters?.totp_config?.enabled, true);
  assert.notEqual((await env.lftp('alice', 'alice-pw-1', 'ls')).status, 0);
});

test('local-only accounts (external_auth_disabled) keep the built-in check; other accounts the directory does not know are refused', { timeout: 120_000 }, async () => {
  const base = { status: 1, password: 'local-pw-1', permissions: { '/': ['*'] } };
  await env.app.ctx.provider.addUser({ ...base, username: 'svc', home_dir: home('svc'), filters: { hooks: { external_auth_disabled: true } } });
  await env.app.ctx.provider.addUser({ ...base, username: 'stray', home_dir: home('stray') });
  const svc = await env.sftpPassword('svc', 'local-pw-1', ['mkdir local-login']);
  assert.equal(svc.status, 0, svc.stderr);
  assert.notEqual((await env.sftpPassword('stray', 'local-pw-1', ['pwd'])).status, 0);
  assert.match(await env.logText(), /"sender":"ldap".*directory lookup for user \\"stray\\" failed: no directory entry matches/);
});

test('the directory stopped: a clean refusal with a log line; back again: logins work', { timeout: 120_000 }, async () => {
  await slapd.halt();
  try {
    assert.notEqual((await env.sftpPassword('alice', 'alice-pw-1', ['pwd'])).status, 0);
    assert.equal(await env.dav('alice', 'alice-pw-1', 'PROPFIND', '/'), 401);
    assert.match(await env.logText(), /"sender":"ldap".*no LDAP server answered/);
  } finally {
    await slapd.start();
  }
  assert.equal((await env.sftpPassword('alice', 'alice-pw-1', ['pwd'])).status, 0);
  const log = await env.logText();
  for (const secret of ['alice-pw-1', 'alice-pw-2', 'bob-pw-1', 'paul-old-pw', 'paul-new-pw', SEARCH_PW, 'wrong-pw']) {
    assert.ok(!log.includes(secret), `${secret} logged`);
  }
});
