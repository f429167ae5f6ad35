/**
 * /api/v2/status advertises only what the SSH server really does: the
 * authentication methods are compared with what OpenSSH's client is offered
 * (`ssh -v` prints "Authentications that can continue"), security-key
 * algorithms (sk-*) are not advertised because they cannot be verified, and
 * naming one in the config stops start-up.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { buildServicesStatus } from '../../../src/service/status';
import { startSftpServer } from '../../support/server';
import { run } from './openssh';

async function offeredMethods(port: number): Promise<string[]> {
  const r = await run('ssh', ['-v', '-F', '/dev/null', '-p', String(port), '-o', 'StrictHostKeyChecking=no',
    '-o', 'UserKnownHostsFile=/dev/null', '-o', 'BatchMode=yes', '-o', 'PreferredAuthentications=none',
    '-o', 'ConnectTimeout=30', 'nobody@127.0.0.1', 'true']);
  const m = /Authentications that can continue: ([\w,+-]+)/.exec(r.stderr);
  assert.ok(m, `no method list in ssh -v output: ${r.stderr.slice(-500)}`);
  return m[1]!.split(',').sort();
}

for (const [label, password, kbd] of [['all methods', true, true], ['public key only', false, false], ['password only', true, false]] as const) {
  test(`status authentications match the methods offered to OpenSSH (${label})`, async () => {
    const srv = await startSftpServer({
      configure: (c) => {
        c.sftpd.password_authentication = password;
        c.sftpd.keyboard_interactive_authentication = kbd;
      },
    });
    try {
      const status = buildServicesStatus(srv.ctx, [srv.service]);
      const ssh = status.ssh as { authentications: string[]; public_key_algorithms: string[] };
      assert.deepEqual([...ssh.authentications].sort(), await offeredMethods(srv.port));
      assert.ok(ssh.public_key_algorithms.length > 0);
      assert.equal(ssh.public_key_algorithms.some((a) => a.startsWith('sk-')), false, 'security-key algorithms cannot be verified');
      const mfa = status.mfa as { is_active: boolean; totp_configs: unknown[] };
      assert.equal(srv.ctx.config.mfa.totp.length > 0, true);
      assert.equal(mfa.is_active, false, 'no protocol checks TOTP codes yet');
    } finally {
      await srv.stop();
    }
  });
}

test('an sk-* public key algorithm in the config stops start-up with the key named', async () => {
  await assert.rejects(
    startSftpServer({ configure: (c) => { c.sftpd.public_key_algorithms = ['ssh-ed25519', 'sk-ssh-ed25519@openssh.com']; } }),
    /public_key_algorithms.*sk-ssh-ed25519@openssh\.com/,
  );
});
