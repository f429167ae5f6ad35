/** The htpasswd parser and checker, basic-auth header decoding, and the telemetry TLS option mapping. */
import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import bcrypt from 'bcryptjs';
import { HtpasswdFile, basicCredentials, parseHtpasswd } from '../../../src/service/htpasswd';
import { alpnProtocols, configPath, opensslCiphers } from '../../../src/service/telemetry-tls';
import { md5Crypt } from '../../../src/dataprovider/unixcrypt';

test('parseHtpasswd keeps users, skips comments and blank lines, trims around the hash', () => {
  const users = parseHtpasswd([
    '# comment', '', '  alice:$2y$05$abcdefghijklmnopqrstuu5Oj8D0XK3Jg0d3V0Zb4fQ9xqH1e0l2y', 'bob: $apr1$salt$hash', 'carol:$1$salt$hash\r', '   ',
  ].join('\n'));
  assert.deepEqual([...users.keys()], ['alice', 'bob', 'carol']);
  assert.equal(users.get('bob'), '$apr1$salt$hash');
  assert.equal(users.get('carol'), '$1$salt$hash');
});

test('parseHtpasswd accepts every bcrypt prefix SFTPGo does', () => {
  for (const prefix of ['$2a$', '$2b$', '$2x$', '$2y$', '$2$']) {
    assert.equal(parseHtpasswd(`u:${prefix}10$x\n`).size, 1, prefix);
  }
});

test('parseHtpasswd refuses formats SFTPGo cannot verify and malformed lines, naming the line', () => {
  const cases: [string, RegExp][] = [
    ['ok:$apr1$a$b\nsha:{SHA}W6ph5Mm5Pz8GgiULbPgzG37mj9g=', /line 2: user "sha" has an unsupported hash format/],
    ['crypt:abJnggxhB/yWI', /line 1: user "crypt" has an unsupported hash format/],
    ['sha512:$6$salt$hash', /unsupported hash format/],
    ['plain:secret', /unsupported hash format/],
    ['no-colon', /line 1: expected "username:hash"/],
    [':$apr1$a$b', /line 1: expected "username:hash"/],
    ['u:$apr1$a$b:extra', /more fields/],
    ['u:$apr1$a$b\nu:$1$c$d', /line 2: user "u" is listed twice/],
  ];
  for (const [text, expected] of cases) assert.throws(() => parseHtpasswd(text), expected, text);
});

test('basicCredentials decodes the header and splits at the first colon', () => {
  const header = (s: string): string => `Basic ${Buffer.from(s).toString('base64')}`;
  assert.deepEqual(basicCredentials(header('prom:pa:ss')), { username: 'prom', password: 'pa:ss' });
  assert.deepEqual(basicCredentials(`bAsIc ${Buffer.from('a:').toString('base64')}`), { username: 'a', password: '' });
  assert.equal(basicCredentials(undefined), undefined);
  assert.equal(basicCredentials(header('no-colon')), undefined);
  assert.equal(basicCredentials('Bearer abc'), undefined);
});

test('HtpasswdFile verifies bcrypt, apr1 and md5 crypt; re-reads a changed file; an invalid file throws', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'htpasswd-unit-'));
  try {
    const file = join(dir, 'users');
    await writeFile(file, `b:${bcrypt.hashSync('bpw', 4)}\na:${md5Crypt('apw', 'saltsalt', '$apr1$')}\nm:${md5Crypt('mpw', 'xy', '$1$')}\n`);
    const auth = await HtpasswdFile.open(file);
    assert.equal(await auth.check('b', 'bpw'), true);
    assert.equal(await auth.check('a', 'apw'), true);
    assert.equal(await auth.check('m', 'mpw'), true);
    assert.equal(await auth.check('b', 'apw'), false);
    assert.equal(await auth.check('zz', 'bpw'), false);
    await writeFile(file, `a:${md5Crypt('new-password', 'other', '$apr1$')}\n`);
    assert.equal(await auth.check('b', 'bpw'), false);
    assert.equal(await auth.check('a', 'new-password'), true);
    await writeFile(file, 'a:plaintext\n');
    await assert.rejects(auth.check('a', 'plaintext'), /unsupported hash format/);
    await rm(file);
    await assert.rejects(auth.check('a', 'new-password'), /ENOENT/);
    await assert.rejects(HtpasswdFile.open(file), /ENOENT/);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('opensslCiphers maps Go suite names in order, skips TLS 1.3 names, refuses unknown ones', () => {
  assert.equal(opensslCiphers([]), undefined);
  assert.equal(opensslCiphers(['TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384', ' TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256', 'TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384']),
    'ECDHE-RSA-AES256-GCM-SHA384:ECDHE-ECDSA-CHACHA20-POLY1305');
  assert.equal(opensslCiphers(['TLS_AES_128_GCM_SHA256']), undefined);
  assert.throws(() => opensslCiphers(['TLS_RSA_WITH_RC4_128_SHA']), /telemetry\.tls_cipher_suites: unsupported cipher suite "TLS_RSA_WITH_RC4_128_SHA"/);
  assert.throws(() => opensslCiphers(['ECDHE-RSA-AES256-GCM-SHA384']), /unsupported cipher suite/);
});

test('alpnProtocols defaults to http/1.1 then h2 and refuses other names; configPath resolves against the config dir', () => {
  assert.deepEqual(alpnProtocols([]), ['http/1.1', 'h2']);
  assert.deepEqual(alpnProtocols(['h2', 'http/1.1', 'h2']), ['h2', 'http/1.1']);
  assert.throws(() => alpnProtocols(['http/1.0']), /telemetry\.tls_protocols/);
  assert.equal(configPath('', '/etc/sftpgo'), '');
  assert.equal(configPath('users.htpasswd', '/etc/sftpgo'), '/etc/sftpgo/users.htpasswd');
  assert.equal(configPath('/abs/file', '/etc/sftpgo'), '/abs/file');
});
