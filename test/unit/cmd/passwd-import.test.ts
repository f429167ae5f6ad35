import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import { convertAccount, parsePasswd, parseShadow } from '../../../src/cmd/passwd-import';

const DAY = 86_400_000;
const NOW = 20_000 * DAY + 3_600_000;
const Y = '$y$j9T$FlWFFjPPx4yJOSHj2Llgp0$XQC9NXTGRS3IMwYZ.Yv7LdwsiMd6bmgWeER5U1OKYv.';
const all = { minUid: -1, maxUid: -1, usernames: [], forceUid: -1, forceGid: -1 };

test('passwd and shadow parsing: comments, NIS lines and malformed lines', () => {
  const p = parsePasswd('# comment\n\n+nisuser::::::\nalice:x:1001:100:Alice:/home/alice:/bin/bash\n');
  assert.deepEqual(p, [{ name: 'alice', passwd: 'x', uid: 1001, gid: 100, home: '/home/alice', shell: '/bin/bash' }]);
  assert.throws(() => parsePasswd('alice:x:notanumber:100::/home/alice:/bin/sh\n'), /passwd line 1: expected name:password:uid:gid:gecos:home:shell/);
  assert.throws(() => parsePasswd('ok:x:1:1::/:/bin/sh\nshort:x:1\n'), /passwd line 2/);
  const s = parseShadow(`alice:${Y}:19990:0:99999:7:30:20010:\n`);
  assert.deepEqual(s.get('alice'), { name: 'alice', hash: Y, lastChange: 19990, inactive: 30, expire: 20010 });
  assert.throws(() => parseShadow('alice:x:1\n'), /shadow line 1: expected 9 colon-separated fields/);
});

test('conversion follows convertusers: filters, forced ids, inactivity, expiration, unusable hashes', () => {
  const acct = (name: string, uid: number, pw = 'x') => ({ name, passwd: pw, uid, gid: uid, home: `/home/${name}`, shell: '/bin/sh' });
  const shadow = parseShadow([
    `alice:${Y}:19990:0:99999:7:::`,
    `idle:${Y}:19900:0:99999:7:30::`,
    `fresh:${Y}:19990:0:99999:7:30::`,
    `exp:${Y}:19990:0:99999:7::20010:`,
    `locked:!${Y}:19990:0:99999:7:::`,
    'nopw::19990:0:99999:7:::',
    'des:abJnggxhB/yWI:19990:0:99999:7:::',
    'gost:$gy$j9T$abc$def:19990:0:99999:7:::',
  ].join('\n'));
  const alice = convertAccount(acct('alice', 1001), shadow, all, NOW);
  assert.deepEqual(alice, { user: { username: 'alice', password: Y, home_dir: '/home/alice', uid: 1001, gid: 1001, status: 1, expiration_date: 0, permissions: { '/': ['*'] } } });
  assert.equal(convertAccount(acct('alice', 1001), shadow, { ...all, minUid: 1002 }, NOW), undefined);
  assert.equal(convertAccount(acct('alice', 1001), shadow, { ...all, maxUid: 1000 }, NOW), undefined);
  assert.equal(convertAccount(acct('alice', 1001), shadow, { ...all, usernames: ['bob'] }, NOW), undefined);
  const forced = convertAccount(acct('alice', 1001), shadow, { ...all, forceUid: 0, forceGid: 33 }, NOW);
  assert.ok(forced && 'user' in forced);
  assert.deepEqual([forced.user.uid, forced.user.gid], [0, 33]);
  const status = (name: string): number | string => {
    const c = convertAccount(acct(name, 2000), shadow, all, NOW);
    return c && 'user' in c ? c.user.status : c ? c.reason : 'filtered';
  };
  assert.equal(status('idle'), 0, '100 days since the last change > 30 days of inactivity allowed');
  assert.equal(status('fresh'), 1);
  const exp = convertAccount(acct('exp', 2000), shadow, all, NOW);
  assert.ok(exp && 'user' in exp);
  assert.equal(exp.user.expiration_date, 20010 * DAY);
  assert.equal(status('locked'), 'locked or without a password');
  assert.equal(status('nopw'), 'locked or without a password');
  assert.equal(status('des'), 'unsupported password hash scheme (DES or unknown)');
  assert.equal(status('gost'), 'unsupported password hash scheme ($gy$)');
  assert.equal(status('ghost'), 'no /etc/shadow entry');
  const inline = convertAccount(acct('old', 3000, '$6$salt$hash'), new Map(), all, NOW);
  assert.ok(inline && 'user' in inline, 'a hash kept in passwd itself is used as is');
});
