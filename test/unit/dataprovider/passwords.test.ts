/**
 * Every stored-password format SFTPGo verifies, against fixed vectors from
 * independent implementations (glibc/OpenSSL crypt, Python hashlib, SFTPGo's
 * docs) and against `openssl passwd` run now when it is installed.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { test } from 'node:test';
import { DEFAULT_PASSWORD_HASHING, hashPassword, isHashedPassword, PasswordCache, verifyPassword } from '../../../src/dataprovider/passwords';
import { md5Crypt, shaCrypt } from '../../../src/dataprovider/unixcrypt';

const VECTORS: [string, string, string][] = [
  ['md5crypt', 'password', '$1$abcdefgh$G//4keteveJp0qb8z2DxG/'],
  ['apr1', 'password', '$apr1$xyz$NU.niW1.aK5j0LYFfMca4/'],
  ['sha256crypt', 'Hello world!', '$5$saltstring$5B8vYYiY.CVt1RlTTf8KbXBH3hsxY/GNooZaBBGWEc5'],
  ['sha512crypt', 'Hello world!', '$6$saltstring$svn8UoSVapNtMuq1ukKS4tPQd8iKwSMHWjl/O817G3uBnIFNjnQJuesI68u4OTLiBFdcbYEdFCoEOfaS35inz1'],
  ['sha512crypt rounds', 'Hello world!', '$6$rounds=10000$saltstringsaltst$OW1/O6BYHV6BcXZu8QVeXbDWra3Oeqh0sbHbbMCVNSnCM/UrjmM0Dp8vOuZeHBy/YTBmSK6H9qs/y3RnOaw5v.'],
  ['pbkdf2-sha256 (SFTPGo docs)', 'password', '$pbkdf2-sha256$150000$E86a9YMX3zC7$R5J62hsSq+pYw00hLLPKBbcGXmq7fj5+/M0IFoYtZbo='],
  ['pbkdf2-sha1', 'password', '$pbkdf2-sha1$1000$E86a9YMX3zC7$WB0NoYmaP6aG9Zyj84x863JZtHI='],
  ['pbkdf2-sha512', 'password', '$pbkdf2-sha512$1000$E86a9YMX3zC7$PT/UxaqhJWw/Im8Ye1OoIiwj9YchY6VWNHfOfkvBevLYq3mc9rCDb3IMbUlDwdQ8DfcdGqCF6NtHHmniK3njzw=='],
  ['pbkdf2-b64salt-sha256', 'password', '$pbkdf2-b64salt-sha256$1000$AAECAwQFBgcICQoLDA0ODw==$JeuGrMduQwGPGLmo+Qwv7UYtHHmeg9SK49fGkEamC2c='],
  ['{MD5}', 'password', '{MD5}5f4dcc3b5aa765d61d8327deb882cf99'],
  ['{SHA256}', 'password', '{SHA256}5e884898da28047151d0e56f8dc6292773603d0d6aabbdd62a11ef721d1542d8'],
  ['{SHA512}', 'password', '{SHA512}b109f3bbbc244eb82441917ed06d618b9008dd09b3befd1b5e07394c706a8bb980b1d7785e5976ec049b46df5f1326af5a2ea6d103fd07c95385ffab0cacbc86'],
  ['bcrypt $2a$ (SFTPGo docs)', 'secret', '$2a$14$ajq8Q7fbtFRQvXpdCq7Jcuy.Rx1h/L4J60Otx.gyNLbAYctGMJ9tK'],
];

for (const [name, plain, hash] of VECTORS) {
  test(`verify ${name}`, async () => {
    assert.ok(isHashedPassword(hash), 'recognised as already hashed');
    assert.equal(await verifyPassword(plain, hash), true, 'right password accepted');
    assert.equal(await verifyPassword(`${plain}x`, hash), false, 'wrong password refused');
    assert.equal(await verifyPassword('', hash), false, 'empty password refused');
  });
}

test('crypt implementations agree with openssl passwd for random inputs', (t) => {
  try {
    execFileSync('openssl', ['version']);
  } catch {
    t.skip('openssl is not installed');
    return;
  }
  const cases: [string, string][] = [['-1', 'abcd1234'], ['-apr1', 'Zz09./xy'], ['-5', 'saltsaltsaltsalt'], ['-6', 'short']];
  for (const [flag, salt] of cases) {
    for (const pw of ['p', 'correct horse battery staple', 'ünïcødé-パスワード', 'x'.repeat(100)]) {
      const expected = execFileSync('openssl', ['passwd', flag, '-salt', salt, pw]).toString().trim();
      const got = flag === '-1' ? md5Crypt(pw, salt, '$1$') : flag === '-apr1' ? md5Crypt(pw, salt, '$apr1$')
        : shaCrypt(pw, salt, flag === '-5' ? 'sha256' : 'sha512');
      assert.equal(got, expected, `${flag} ${JSON.stringify(pw)}`);
    }
  }
});

test('bcrypt $2y$ and $2b$ variants verify', async () => {
  const h = await hashPassword('pw1', { ...DEFAULT_PASSWORD_HASHING, bcrypt_options: { cost: 4 } });
  assert.match(h, /^\$2a\$04\$/);
  for (const prefix of ['$2y$', '$2b$']) {
    const variant = prefix + h.slice(4);
    assert.equal(await verifyPassword('pw1', variant), true);
    assert.equal(await verifyPassword('pw2', variant), false);
  }
});

test('argon2id with SFTPGo parameters', async () => {
  const h = await hashPassword('argonpw', { ...DEFAULT_PASSWORD_HASHING, algo: 'argon2id' });
  assert.match(h, /^\$argon2id\$v=19\$m=65536,t=1,p=2\$/);
  assert.equal(await verifyPassword('argonpw', h), true);
  assert.equal(await verifyPassword('argonpW', h), false);
});

test('malformed hashes never throw and never match', async () => {
  for (const h of ['$1$', '$6$rounds=abc$salt$x', '$pbkdf2-sha256$notanumber$s$aGFzaA==', '$pbkdf2-sha256$1$s', '$2a$99$x',
    '$argon2id$garbage', '{MD5}', 'plain-text']) {
    assert.equal(await verifyPassword('anything', h), false, h);
  }
  assert.equal(isHashedPassword('plain-text'), false);
  assert.equal(isHashedPassword('$argon2id$v=19$...'), true);
});

test('password cache: hit only for the same password and the same stored hash', () => {
  const c = new PasswordCache();
  c.add('u', 'pw', 'HASH1');
  assert.deepEqual(c.check('u', 'pw', 'HASH1'), { found: true, match: true });
  assert.equal(c.check('u', 'other', 'HASH1').found, false);
  assert.equal(c.check('u', 'pw', 'HASH2').found, false, 'a changed hash invalidates the entry');
  assert.equal(c.check('v', 'pw', 'HASH1').found, false);
  c.remove('u');
  assert.equal(c.check('u', 'pw', 'HASH1').found, false);
});
