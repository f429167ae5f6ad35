/**
 * 2FA through the real start-up path (service/app.ts startApp): a bad
 * `mfa.totp` list stops the server with a clear error, and the memory driver's
 * dump file (loaded before any service starts) gets its Plain TOTP secrets
 * encrypted with the configured kms and keeps 2FA required on the user token.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig } from '../../../src/config';
import type { AppConfig, RuntimeOptions } from '../../../src/config/types';
import { totpCode } from '../../../src/mfa/totp';
import { startApp } from '../../../src/service/app';
import { freePort } from '../../support/net';
import { recordingLogger, type LogRecord } from './support';

const SECRET = 'MFRGGZDFMZTWQ2LKNNWG23TPOBYXE43U';

async function configFor(dir: string, httpPort: number): Promise<AppConfig> {
  const c = loadConfig({ configDir: dir, env: {} });
  c.sftpd.bindings = c.sftpd.bindings.map((b) => ({ ...b, port: 0 }));
  c.ftpd.bindings = c.ftpd.bindings.map((b) => ({ ...b, port: 0 }));
  c.webdavd.bindings = c.webdavd.bindings.map((b) => ({ ...b, port: 0 }));
  c.telemetry.bind_port = 0;
  c.httpd.bindings = [{ ...c.httpd.bindings[0], port: httpPort, address: '127.0.0.1', enable_web_admin: false }];
  c.mfa.totp = [{ name: 'Default', issuer: 'SFTPGo', algo: 'sha1' }];
  c.kms.secrets.master_key = 'startup-master-key';
  c.data_provider.password_hashing.bcrypt_options.cost = 4;
  return c;
}

function runtime(dir: string): RuntimeOptions {
  return {
    configDir: dir, configFile: '', logFilePath: '', logLevel: 'debug', logMaxSize: 10, logMaxBackups: 0, logMaxAge: 0,
    logCompress: false, logUTCTime: true, graceTime: 0, loadDataFrom: '', loadDataMode: 0, loadDataClean: false, loadDataQuotaScan: 0,
  };
}

test('a bad mfa.totp configuration stops start-up with the reason', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'mfa-startup-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const config = await configFor(dir, await freePort());
  config.data_provider.driver = 'memory';
  config.data_provider.name = '';
  const logs: LogRecord[] = [];
  for (const [totp, re] of [
    [[{ name: 'x', issuer: 'i', algo: 'md5' }], /mfa\.totp "x": unsupported algo "md5"/],
    [[{ name: 'x', issuer: 'i', algo: 'sha1' }, { name: 'x', issuer: 'j', algo: 'sha256' }], /mfa\.totp: duplicate configuration name "x"/],
    [[{ name: 'x', issuer: '', algo: 'sha1' }], /mfa\.totp "x": issuer is mandatory/],
  ] as const) {
    config.mfa.totp = totp.map((c) => ({ ...c }));
    await assert.rejects(startApp({ runtime: runtime(dir), config, logger: recordingLogger(logs) }), re);
  }
});

test('the memory driver dump file: Plain TOTP secrets are sealed at start and 2FA stays required', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'mfa-startup-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  await writeFile(join(dir, 'dump.json'), JSON.stringify({
    version: 17,
    users: [{ username: 'memuser', password: 'pw-memuser', status: 1, home_dir: join(dir, 'memuser'), permissions: { '/': ['*'] },
      filters: { totp_config: { enabled: true, config_name: 'Default', protocols: ['HTTP'], secret: { status: 'Plain', payload: SECRET } } } }],
  }));
  const port = await freePort();
  const config = await configFor(dir, port);
  config.data_provider.driver = 'memory';
  config.data_provider.name = 'dump.json';
  const app = await startApp({ runtime: runtime(dir), config, logger: recordingLogger([]) });
  t.after(() => app.stop());
  const stored = await app.ctx.provider.getUser('memuser');
  assert.equal(stored?.filters?.totp_config?.secret?.status, 'Secretbox');
  assert.equal(stored?.filters?.totp_config?.secret?.mode, 1);
  const basic = `Basic ${Buffer.from('memuser:pw-memuser').toString('base64')}`;
  const url = `http://127.0.0.1:${port}/api/v2/user/token`;
  assert.equal((await fetch(url, { headers: { authorization: basic } })).status, 401);
  const ok = await fetch(url, { headers: { authorization: basic, 'x-sftpgo-otp': totpCode(SECRET, 'sha1', Date.now()) } });
  assert.equal(ok.status, 200);
});
