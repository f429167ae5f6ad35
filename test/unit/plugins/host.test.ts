/**
 * The go-plugin host against real plugin processes (test/support/plugins):
 * unix socket and TCP, with and without AutoMTLS, graceful shutdown, a
 * crashed plugin restarted, and every broken start (no handshake, garbage,
 * early exit, wrong version, not serving, wrong certificate, checksum
 * mismatch) refused with a clear error and no process left behind.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, X509Certificate } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { once } from 'node:events';
import { PluginProcess } from '../../../src/plugins/process';
import { AUTH_MAGIC_COOKIE } from '../../../src/plugins/auth';
import { loadService, unaryCall } from '../../../src/plugins/proto';
import { pluginEnv } from '../../../src/plugins/handshake';
import { makeMtlsIdentity } from '../../../src/plugins/mtls-cert';
import { captureLogger, pluginConfig, writePluginLauncher } from '../../support/plugin-fixtures';
import type { PluginConfig } from '../../../src/config/types';

let dir: string;
let launcher: string;
const auth = loadService('auth.proto', 'proto.Auth');

before(() => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'plugin-host-'));
  launcher = writePluginLauncher(dir, 'auth-plugin', 'auth');
});
after(() => rmSync(dir, { recursive: true, force: true }));

function host(over: Partial<PluginConfig> = {}, handshakeTimeoutMs = 30_000) {
  const logger = captureLogger();
  const proc = new PluginProcess({
    kind: 'auth', cfg: pluginConfig('auth', launcher, { auth_options: { scope: 1 }, ...over }), magicCookie: AUTH_MAGIC_COOKIE, logger,
    handshakeTimeoutMs, restartDelaysMs: [50, 100], callTimeoutMs: 20_000,
  });
  return { proc, logger };
}

const pidAlive = (pid: number): boolean => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

async function checkPass(proc: PluginProcess, username: string, password: string): Promise<Buffer> {
  const res = await unaryCall<{ user: Buffer }>(proc.client(auth), auth, 'CheckUserAndPass', { username, password, ip: '127.0.0.1', protocol: 'SSH', user: Buffer.alloc(0) }, 20_000);
  return res.user;
}

for (const network of ['unix', 'tcp'] as const) {
  for (const mtls of [false, true]) {
    test(`a plugin over ${network}${mtls ? ' with AutoMTLS' : ''}: health, calls, hclog into our log, graceful shutdown`, { timeout: 60_000 }, async () => {
      const { proc, logger } = host({ args: [`--network=${network}`, '--home=/srv'], auto_mtls: mtls });
      await proc.start();
      try {
        const user = JSON.parse((await checkPass(proc, 'plug', 'plug-pw')).toString()) as { username: string; home_dir: string };
        assert.equal(user.username, 'plug');
        assert.equal(user.home_dir, '/srv/plug');
        await assert.rejects(checkPass(proc, 'plug', 'wrong'), /invalid credentials/);
      } finally {
        const pid = proc.pid!;
        await proc.stop();
        assert.equal(pidAlive(pid), false);
      }
      // the plugin's hclog lines arrive at their level, and it saw the controller's shutdown
      assert.ok(logger.lines.some((l) => l.level === 'info' && l.message.includes('plugin serving')), logger.text());
      assert.ok(logger.lines.some((l) => l.message.includes('shutdown requested by the host')), logger.text());
      assert.ok(!logger.text().includes('plug-pw'));
    });
  }
}

test('a plugin that dies is restarted; calls meanwhile fail', { timeout: 60_000 }, async () => {
  const { proc, logger } = host({ args: ['--crash-on=boom'] });
  await proc.start();
  try {
    const first = proc.pid!;
    const restarted = once(proc, 'started');
    await assert.rejects(checkPass(proc, 'boom', 'x'));
    await restarted;
    assert.notEqual(proc.pid, first);
    assert.equal(JSON.parse((await checkPass(proc, 'plug', 'plug-pw')).toString()).username, 'plug');
    assert.ok(logger.lines.some((l) => l.level === 'error' && /exited \(code 9\), restarting/.test(l.message)), logger.text());
  } finally {
    await proc.stop();
  }
});

const broken: [string, RegExp, number?][] = [
  ['no-handshake', /no handshake line within 1500 ms/, 1500],
  ['garbage', /unrecognized handshake line "hello, I am not a handshake line"/],
  ['exit', /exited \(code 3\) before the handshake: .*exiting on purpose/],
  ['wrong-version', /incompatible plugin protocol version "7"/],
  ['not-serving', /health check status 2/],
];
for (const [misbehave, expected, timeout] of broken) {
  test(`a plugin that misbehaves (${misbehave}) is refused with a clear error and killed`, { timeout: 60_000 }, async () => {
    const { proc } = host({ args: [`--misbehave=${misbehave}`] }, timeout ?? 30_000);
    await assert.rejects(proc.start(), expected);
    assert.equal(proc.isRunning, false);
  });
}

test('AutoMTLS: a plugin serving another certificate than its handshake announces is not trusted', { timeout: 60_000 }, async () => {
  const { proc } = host({ args: ['--misbehave=wrong-cert'], auto_mtls: true }, 20_000);
  await assert.rejects(proc.start(), /auth plugin/);
  assert.equal(proc.isRunning, false);
});

test('sha256sum pinning: a mismatch is refused before the plugin runs, the right digest starts it', { timeout: 60_000 }, async () => {
  const digest = createHash('sha256').update(readFileSync(launcher)).digest('hex');
  const bad = host({ sha256sum: 'a'.repeat(64) });
  await assert.rejects(bad.proc.start(), /checksum mismatch/);
  assert.equal(bad.proc.pid, undefined);
  const good = host({ sha256sum: digest.toUpperCase() });
  await good.proc.start();
  await good.proc.stop();
});

test('the plugin gets only the filtered environment, the magic cookie and the host certificate', () => {
  const env = pluginEnv({ cmd: '/opt/my-plugin', envPrefix: '', envVars: ['ONLY_THIS'], magicCookie: AUTH_MAGIC_COOKIE, clientCertPem: 'PEM' },
    { MY_PLUGIN_TOKEN: 't', OTHER: 'o', ONLY_THIS: 'x', HOME: '/root' });
  assert.deepEqual(env, {
    MY_PLUGIN_TOKEN: 't', ONLY_THIS: 'x', SFTPGO_PLUGIN_AUTH: AUTH_MAGIC_COOKIE[1], PLUGIN_MIN_PORT: '10000', PLUGIN_MAX_PORT: '25000',
    PLUGIN_PROTOCOL_VERSIONS: '1', PLUGIN_CLIENT_CERT: 'PEM',
  });
  assert.equal(pluginEnv({ cmd: '/x', envPrefix: 'none', envVars: [], magicCookie: AUTH_MAGIC_COOKIE }, { X_A: '1' }).X_A, undefined);
  assert.equal(pluginEnv({ cmd: '/x', envPrefix: '*', envVars: [], magicCookie: AUTH_MAGIC_COOKIE }, { ANY: '1' }).ANY, '1');
});

test('the AutoMTLS certificate: self-signed P-521 CA for localhost', () => {
  const id = makeMtlsIdentity();
  const cert = new X509Certificate(id.certPem);
  assert.equal(cert.ca, true);
  assert.equal(cert.subjectAltName, 'DNS:localhost');
  assert.equal(cert.publicKey.asymmetricKeyDetails?.namedCurve, 'secp521r1');
  assert.ok(cert.checkIssued(cert));
  assert.equal(cert.checkHost('localhost'), 'localhost');
});
