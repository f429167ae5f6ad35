/**
 * Login checks through the service, on both backends: disabled, expired,
 * denied IP, denied protocol, denied method, wrong/right password and key,
 * admin allow list, last-login throttling.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { utils as sshUtils } from 'ssh2';
import { isFsError } from '../../../src/common/errors';
import { BACKENDS, tempDir, userInput } from './support';
import { generateSshKeyPairSync } from '../../../src/util/sshkeygen';

const keyA = generateSshKeyPairSync('ed25519', { comment: 'key-a' });
const keyB = generateSshKeyPairSync('ed25519', { comment: 'key-b' });

function blobOf(publicKey: string): Buffer {
  const parsed = sshUtils.parseKey(publicKey);
  if (parsed instanceof Error || Array.isArray(parsed)) throw new Error('bad test key');
  return parsed.getPublicSSH();
}

const SSH = { ip: '192.168.1.10', protocol: 'SSH' as const };
const denied = (e: unknown): boolean => isFsError(e, 'PermissionDenied');

for (const backend of BACKENDS) {
  describe(`login checks: ${backend.name}`, () => {
    test('password: right accepted, wrong refused, unknown user NotFound', async (t) => {
      const dp = await backend.open(tempDir(t));
      t.after(() => dp.close());
      await dp.addUser(userInput('pw1'));
      const u = await dp.checkUserAndPass('pw1', 'secret', SSH);
      assert.equal(u.username, 'pw1');
      // second time comes from the cache and must agree
      await dp.checkUserAndPass('pw1', 'secret', SSH);
      await assert.rejects(dp.checkUserAndPass('pw1', 'Secret', SSH), denied);
      await assert.rejects(dp.checkUserAndPass('pw1', '', SSH), denied);
      await assert.rejects(dp.checkUserAndPass('ghost', 'secret', SSH), (e) => isFsError(e, 'NotFound'));
      // a password change invalidates the cached one
      await dp.updateUser('pw1', userInput('pw1', { password: 'newsecret' }));
      await assert.rejects(dp.checkUserAndPass('pw1', 'secret', SSH), denied);
      await dp.checkUserAndPass('pw1', 'newsecret', SSH);
    });

    test('disabled and expired users are refused before credentials', async (t) => {
      const dp = await backend.open(tempDir(t));
      t.after(() => dp.close());
      await dp.addUser(userInput('off', { status: 0 }));
      await dp.addUser(userInput('old', { expiration_date: Date.now() - 1000 }));
      await dp.addUser(userInput('future', { expiration_date: Date.now() + 3_600_000 }));
      await assert.rejects(dp.checkUserAndPass('off', 'secret', SSH), (e) => denied(e) && /disabled/.test((e as Error).message));
      await assert.rejects(dp.checkUserAndPass('old', 'secret', SSH), (e) => denied(e) && /expired/.test((e as Error).message));
      await dp.checkUserAndPass('future', 'secret', SSH);
    });

    test('denied protocol, denied login methods, password-over-SSH', async (t) => {
      const dp = await backend.open(tempDir(t));
      t.after(() => dp.close());
      await dp.addUser(userInput('noftp', { filters: { denied_protocols: ['FTP'] } }));
      await assert.rejects(dp.checkUserAndPass('noftp', 'secret', { ip: '127.0.0.1', protocol: 'FTP' }), denied);
      await dp.checkUserAndPass('noftp', 'secret', { ip: '127.0.0.1', protocol: 'DAV' });

      await dp.addUser(userInput('nosshpw', { filters: { denied_login_methods: ['password-over-SSH'] } }));
      await assert.rejects(dp.checkUserAndPass('nosshpw', 'secret', SSH), denied);
      await dp.checkUserAndPass('nosshpw', 'secret', { ip: '127.0.0.1', protocol: 'FTP' });

      await dp.addUser(userInput('nopw', { filters: { denied_login_methods: ['password'] } }));
      await assert.rejects(dp.checkUserAndPass('nopw', 'secret', { ip: '127.0.0.1', protocol: 'HTTP' }), denied);

      await dp.addUser(userInput('nokey', { public_keys: [keyA.public], filters: { denied_login_methods: ['publickey'] } }));
      await assert.rejects(dp.checkUserAndPubKey('nokey', blobOf(keyA.public), SSH), denied);
      const user = await dp.getUser('nokey');
      assert.ok(user);
      assert.throws(() => dp.checkLoginConditions(user, { ...SSH, method: 'publickey' }), denied);
      dp.checkLoginConditions(user, { ...SSH, method: 'keyboard-interactive' });
    });

    test('allowed_ip / denied_ip: deny first, then the allow list', async (t) => {
      const dp = await backend.open(tempDir(t));
      t.after(() => dp.close());
      await dp.addUser(userInput('ipuser', { filters: { allowed_ip: ['192.168.1.0/24', '2001:db8::/32'], denied_ip: ['192.168.1.66/32'] } }));
      await dp.checkUserAndPass('ipuser', 'secret', { ip: '192.168.1.10', protocol: 'SSH' });
      await dp.checkUserAndPass('ipuser', 'secret', { ip: '::ffff:192.168.1.11', protocol: 'SSH' });
      await dp.checkUserAndPass('ipuser', 'secret', { ip: '2001:db8::5', protocol: 'FTP' });
      await assert.rejects(dp.checkUserAndPass('ipuser', 'secret', { ip: '192.168.1.66', protocol: 'SSH' }), denied);
      await assert.rejects(dp.checkUserAndPass('ipuser', 'secret', { ip: '10.0.0.1', protocol: 'SSH' }), denied);
      await assert.rejects(dp.checkUserAndPass('ipuser', 'secret', { ip: 'not-an-ip', protocol: 'SSH' }), denied);
    });

    test('public keys: the right key matches with fingerprint, others are refused', async (t) => {
      const dp = await backend.open(tempDir(t));
      t.after(() => dp.close());
      await dp.addUser(userInput('keys', { password: undefined, public_keys: [keyA.public] }));
      const r = await dp.checkUserAndPubKey('keys', blobOf(keyA.public), SSH);
      assert.equal(r.user.username, 'keys');
      assert.match(r.keyInfo, /^SHA256:[A-Za-z0-9+/]{43}:key-a$/);
      await assert.rejects(dp.checkUserAndPubKey('keys', blobOf(keyB.public), SSH), denied);
      await assert.rejects(dp.checkUserAndPubKey('keys', Buffer.alloc(0), SSH), denied);
      await assert.rejects(dp.checkUserAndPass('keys', 'secret', SSH), denied, 'no password set');
    });

    test('admins: password, status, allow list; last_login throttled', async (t) => {
      const dp = await backend.open(tempDir(t));
      t.after(() => dp.close());
      await dp.addAdmin({ username: 'adm1', password: 'adminpw', status: 1, permissions: ['*'], filters: { allow_list: ['10.0.0.0/8'] } });
      await dp.addAdmin({ username: 'adm2', password: 'adminpw', status: 0, permissions: ['*'] });
      const a = await dp.checkAdminAndPass('adm1', 'adminpw', '10.1.2.3');
      assert.equal(a.username, 'adm1');
      const first = (await dp.getAdmin('adm1'))?.last_login ?? 0;
      assert.ok(first > 0);
      await dp.checkAdminAndPass('adm1', 'adminpw', '10.1.2.3');
      assert.equal((await dp.getAdmin('adm1'))?.last_login, first, 'not rewritten within 10 minutes');
      await assert.rejects(dp.checkAdminAndPass('adm1', 'adminpw', '127.0.0.1'), denied);
      await assert.rejects(dp.checkAdminAndPass('adm1', 'wrong', '10.1.2.3'), denied);
      await assert.rejects(dp.checkAdminAndPass('adm2', 'adminpw', '10.1.2.3'), denied);
      await assert.rejects(dp.checkAdminAndPass('nobody', 'adminpw', '10.1.2.3'), denied);
      await dp.changeAdminPassword('adm1', 'adminpw', 'newpw');
      await assert.rejects(dp.checkAdminAndPass('adm1', 'adminpw', '10.1.2.3'), denied);
      await dp.checkAdminAndPass('adm1', 'newpw', '10.1.2.3');
    });

    test('user last_login is written at most every 10 minutes', async (t) => {
      const dp = await backend.open(tempDir(t));
      t.after(() => dp.close());
      await dp.addUser(userInput('ll'));
      const u = await dp.checkUserAndPass('ll', 'secret', SSH);
      await dp.updateLastLogin(u);
      const stamp = (await dp.getUser('ll'))?.last_login ?? 0;
      assert.ok(stamp > 0);
      await dp.updateLastLogin(await dp.getUser('ll') ?? u);
      assert.equal((await dp.getUser('ll'))?.last_login, stamp);
      await dp.backend.updateLastLogin('ll', stamp - 11 * 60 * 1000);
      await dp.updateLastLogin(await dp.getUser('ll') ?? u);
      assert.ok(((await dp.getUser('ll'))?.last_login ?? 0) >= stamp);
    });
  });
}
