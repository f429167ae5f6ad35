/**
 * Dumps with 2FA in SFTPGo's format: Plain secrets are encrypted on load, a
 * Secretbox secret sealed the way SFTPGo seals it (built here with nacl and
 * HKDF, not with our kms) is kept and works, 2FA stays required after the
 * restore and after a dump/restore round trip, and a secret this server cannot
 * open refuses the whole dump with a 400 naming the field.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { hkdfSync, randomBytes } from 'node:crypto';
import nacl from 'tweetnacl';
import type { Secret } from '../../../src/dataprovider/models';
import { startMfaServer, type MfaServer } from './mfa-support';

const MASTER_KEY = 'dump-test-master-key';
const ADMIN_SECRET = 'GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ';
const USER_SECRET = 'MFRGGZDFMZTWQ2LKNNWG23TPOBYXE43U';
const RECOVERY = 'RC-0123456789ABCDEFGHIJ';

/** SFTPGo's local Secretbox layout, sealed with a master key (mode 1). */
function sftpgoSecretbox(plain: string, additionalData: string, masterKey: string): Secret {
  const key = randomBytes(32);
  const boxKey = new Uint8Array(hkdfSync('sha256', Buffer.from(masterKey), key, Buffer.from(additionalData), 32));
  const nonce = randomBytes(24);
  const box = nacl.secretbox(Buffer.from(plain), nonce, boxKey);
  return { status: 'Secretbox', payload: Buffer.concat([nonce, Buffer.from(box)]).toString('base64'), key: key.toString('hex'), additional_data: additionalData, mode: 1 };
}

function dump(userSecret: Secret): Record<string, unknown> {
  return {
    version: 17,
    admins: [{
      id: 9, status: 1, username: 'dumpadmin', password: 'pw-dumpadmin', permissions: ['*'],
      filters: {
        require_two_factor: true,
        totp_config: { enabled: true, config_name: 'Default', secret: { status: 'Plain', payload: ADMIN_SECRET } },
        recovery_codes: [{ secret: { status: 'Plain', payload: RECOVERY } }, { secret: { status: 'Plain', payload: 'RC-USEDUSEDUSEDUSEDUSED1' }, used: true }],
        preferences: {},
      },
      created_at: 1700000000000, updated_at: 1700000000000, last_login: 0,
    }],
    users: [{
      id: 3, status: 1, username: 'dumpuser', password: 'pw-dumpuser', home_dir: '/tmp/dumpuser', permissions: { '/': ['*'] },
      filters: { totp_config: { enabled: true, config_name: 'Default', secret: userSecret, protocols: ['HTTP', 'FTP'] } },
      filesystem: { provider: 0 },
    }],
    folders: [], groups: [], api_keys: [], shares: [], event_actions: [], event_rules: [], roles: [], ip_lists: [], configs: {},
  };
}

let s: MfaServer;
let root: string;
before(async () => {
  s = await startMfaServer({ configure: (c) => { c.kms.secrets.master_key = MASTER_KEY; } });
  root = await s.token();
});
after(async () => { await s.close(); });

test('a dump with Plain and Secretbox TOTP secrets restores with 2FA still required', async () => {
  const r = await s.call('POST', '/api/v2/loaddata', { token: root, body: dump(sftpgoSecretbox(USER_SECRET, 'dumpuser', MASTER_KEY)) });
  assert.equal(r.status, 200, r.text);

  assert.equal((await s.call('GET', '/api/v2/token', { basic: ['dumpadmin', 'pw-dumpadmin'] })).status, 401);
  const adminToken = await s.tokenWithOtp('/api/v2/token', 'dumpadmin', 'pw-dumpadmin', ADMIN_SECRET);
  assert.equal((await s.call('GET', '/api/v2/users', { token: adminToken })).status, 200);
  const codes = (await s.call('GET', '/api/v2/admin/2fa/recoverycodes', { token: adminToken })).json as { code: string; used: boolean }[];
  assert.deepEqual(codes, [{ code: RECOVERY, used: false }, { code: 'RC-USEDUSEDUSEDUSEDUSED1', used: true }]);

  assert.equal((await s.call('GET', '/api/v2/user/token', { basic: ['dumpuser', 'pw-dumpuser'] })).status, 401);
  await s.tokenWithOtp('/api/v2/user/token', 'dumpuser', 'pw-dumpuser', USER_SECRET);
});

test('the dump keeps secrets encrypted: Plain ones are sealed with the username, SFTPGo ones kept as they were', async () => {
  const d = await s.call('GET', '/api/v2/dumpdata?output-data=1', { token: root });
  assert.equal(d.status, 200);
  assert.ok(!d.text.includes(ADMIN_SECRET) && !d.text.includes(USER_SECRET) && !d.text.includes(RECOVERY), 'no plain secret in the dump');
  const data = d.json as { admins: { username: string; filters: { totp_config: { secret: Secret }; recovery_codes: { secret: Secret; used?: boolean }[] } }[];
    users: { username: string; filters: { totp_config: { secret: Secret } } }[] };
  const admin = data.admins.find((a) => a.username === 'dumpadmin');
  assert.equal(admin?.filters.totp_config.secret.status, 'Secretbox');
  assert.equal(admin?.filters.totp_config.secret.additional_data, 'dumpadmin');
  assert.equal(admin?.filters.totp_config.secret.mode, 1, 'sealed with the master key');
  assert.equal(admin?.filters.recovery_codes.length, 2);
  assert.equal(admin?.filters.recovery_codes[1].used, true);
  const user = data.users.find((u) => u.username === 'dumpuser');
  assert.equal(user?.filters.totp_config.secret.status, 'Secretbox');

  // restoring our own dump again (an SFTPGo-style round trip) keeps 2FA working
  const again = await s.call('POST', '/api/v2/loaddata?mode=0', { token: root, body: d.json });
  assert.equal(again.status, 200, again.text);
  assert.equal((await s.call('GET', '/api/v2/user/token', { basic: ['dumpuser', 'pw-dumpuser'] })).status, 401);
  await s.tokenWithOtp('/api/v2/user/token', 'dumpuser', 'pw-dumpuser', USER_SECRET);
});

test('a secret sealed with another master key refuses the whole dump with the field named', async () => {
  const bad = dump(sftpgoSecretbox(USER_SECRET, 'dumpuser', 'some-other-key'));
  (bad.users as Record<string, unknown>[])[0].username = 'otheruser';
  (bad.admins as Record<string, unknown>[])[0].username = 'otheradmin';
  const r = await s.call('POST', '/api/v2/loaddata', { token: root, body: bad });
  assert.equal(r.status, 400);
  assert.match((r.json as { message: string }).message, /user 1 \(otheruser\): filters\.totp_config\.secret: .*cannot decrypt/);
  assert.equal(await s.ctx.provider.getAdmin('otheradmin'), undefined, 'all or nothing');
  assert.equal(await s.ctx.provider.getUser('otheruser'), undefined);

  const unknownConfig = dump({ status: 'Plain', payload: USER_SECRET });
  (unknownConfig.users as { username: string; filters: { totp_config: { config_name: string } } }[])[0].filters.totp_config.config_name = 'Missing';
  const r2 = await s.call('POST', '/api/v2/loaddata', { token: root, body: unknownConfig });
  assert.equal(r2.status, 400);
  assert.match((r2.json as { message: string }).message, /filters\.totp_config\.config_name.*Missing/);
});
