import { test } from 'node:test';
import assert from 'node:assert/strict';
import { splitCommandLine } from '../../../src/sftpd/cmdline';
import { parseScpArgs, validRecordName, modeString } from '../../../src/sftpd/scp';
import { enabledSshCommands } from '../../../src/sftpd/sshcmd';
import { publicKeyAlgoName, resolveAlgorithms } from '../../../src/sftpd/algorithms';
import { serverIdent, normalizeIp } from '../../../src/sftpd/server';
import { effectiveMaxAuthTries } from '../../../src/sftpd/auth';
import type { SftpdConfig } from '../../../src/config/types';

test('splitCommandLine: words, quotes, escapes, no expansion', () => {
  assert.deepEqual(splitCommandLine('md5sum /a/b'), ['md5sum', '/a/b']);
  assert.deepEqual(splitCommandLine("scp -t -- '/dir with space/x'"), ['scp', '-t', '--', '/dir with space/x']);
  assert.deepEqual(splitCommandLine('a "b \\"c\\" $HOME" d\\ e'), ['a', 'b "c" $HOME', 'd e']);
  assert.deepEqual(splitCommandLine("x 'it'\\''s'"), ['x', "it's"]);
  assert.deepEqual(splitCommandLine('  pwd  '), ['pwd']);
  assert.deepEqual(splitCommandLine(''), []);
  assert.throws(() => splitCommandLine("a 'b"), /unterminated/);
  assert.throws(() => splitCommandLine('a "b'), /unterminated/);
});

test('parseScpArgs: modes and flags', () => {
  assert.deepEqual(parseScpArgs(['-r', '-p', '-t', '--', '/x']),
    { mode: 'sink', recursive: true, preserveTimes: true, targetIsDir: false, paths: ['/x'] });
  assert.deepEqual(parseScpArgs(['-prf', 'a', 'b']),
    { mode: 'source', recursive: true, preserveTimes: true, targetIsDir: false, paths: ['a', 'b'] });
  assert.equal(parseScpArgs(['-v', '-d', '-t', '/d']).targetIsDir, true);
  assert.throws(() => parseScpArgs(['/x']), /-t or -f/);
  assert.throws(() => parseScpArgs(['-t']), /missing path/);
  assert.throws(() => parseScpArgs(['-t', 'a', 'b']), /single target/);
  assert.throws(() => parseScpArgs(['-S', 'prog', '-t', 'a']), /unsupported scp option/);
});

test('SCP record names cannot traverse', () => {
  for (const bad of ['', '.', '..', 'a/b', '../x', 'a\0b']) assert.equal(validRecordName(bad), false, bad);
  for (const ok of ['a', '.hidden', '..x', 'file name']) assert.equal(validRecordName(ok), true, ok);
  assert.equal(modeString(0o100644, false), '0644');
  assert.equal(modeString(0o040755, true), '0755');
  assert.equal(modeString(0, true), '0755');
});

test('enabledSshCommands: defaults, * and unknown names', () => {
  assert.deepEqual([...enabledSshCommands(['md5sum', 'scp']).enabled].sort(), ['md5sum', 'scp']);
  assert.ok(enabledSshCommands(['*']).enabled.has('sftpgo-remove'));
  // as SFTPGo before 2025, "*" includes git and rsync
  assert.ok(enabledSshCommands(['*']).enabled.has('rsync'));
  assert.deepEqual(enabledSshCommands(['git-receive-pack', 'pwd', 'svnserve']).unknown, ['svnserve']);
});

function sftpdCfg(over: Partial<SftpdConfig> = {}): SftpdConfig {
  return {
    bindings: [], max_auth_tries: 0, host_keys: [], host_certificates: [], host_key_algorithms: [],
    kex_algorithms: [], ciphers: [], macs: [], public_key_algorithms: [], trusted_user_ca_keys: [],
    revoked_user_certs_file: '', opkssh_path: '', opkssh_checksum: '', login_banner_file: '',
    enabled_ssh_commands: [], keyboard_interactive_authentication: true, keyboard_interactive_auth_hook: '',
    password_authentication: true, ...over,
  };
}

test('resolveAlgorithms: SFTPGo defaults intersected with ssh2, explicit lists validated', () => {
  const d = resolveAlgorithms(sftpdCfg());
  const kex = d.ssh2.kex as string[];
  assert.ok(kex.includes('curve25519-sha256'));
  assert.ok(!kex.includes('mlkem768x25519-sha256'), 'ssh2 cannot do ML-KEM');
  assert.ok(!kex.includes('diffie-hellman-group1-sha1'));
  assert.deepEqual(d.ssh2.hmac, ['hmac-sha2-256-etm@openssh.com', 'hmac-sha2-256']);
  assert.ok((d.ssh2.cipher as string[]).includes('aes128-gcm@openssh.com'));
  assert.ok(!d.publicKey.includes('ssh-rsa'), 'no SHA-1 RSA signatures by default');
  const e = resolveAlgorithms(sftpdCfg({ ciphers: ['aes256-ctr'], macs: ['hmac-sha2-512'] }));
  assert.deepEqual(e.ssh2.cipher, ['aes256-ctr']);
  assert.deepEqual(e.ssh2.hmac, ['hmac-sha2-512']);
  assert.throws(() => resolveAlgorithms(sftpdCfg({ ciphers: ['aes128-ctr', 'rot13'] })), /sftpd\.ciphers.*"rot13"/);
  assert.throws(() => resolveAlgorithms(sftpdCfg({ kex_algorithms: ['nope'] })), /kex_algorithms.*"nope"/);
  assert.throws(() => resolveAlgorithms(sftpdCfg({ public_key_algorithms: ['ssh-foo'] })), /public_key_algorithms/);
});

test('small helpers', () => {
  assert.equal(publicKeyAlgoName('ssh-rsa', 'sha512'), 'rsa-sha2-512');
  assert.equal(publicKeyAlgoName('ssh-rsa', 'sha256'), 'rsa-sha2-256');
  assert.equal(publicKeyAlgoName('ssh-rsa', undefined), 'ssh-rsa');
  assert.equal(publicKeyAlgoName('ssh-ed25519', undefined), 'ssh-ed25519');
  assert.equal(serverIdent('2.7.0', ''), 'SFTPGo_2.7.0');
  assert.equal(serverIdent('2.7.0', 'short'), 'SFTPGo');
  assert.equal(normalizeIp('::ffff:127.0.0.1'), '127.0.0.1');
  assert.equal(normalizeIp('::1'), '::1');
  assert.equal(effectiveMaxAuthTries(0), 6);
  assert.equal(effectiveMaxAuthTries(2), 2);
});
