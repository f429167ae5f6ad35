/** startApp in-process: ordering, telemetry /metrics, addresses, reload, idempotent stop, --loaddata-from. */
import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as http from 'node:http';
import { startApp } from '../../../src/service/app';
import { createNullLogger } from '../../../src/logger/logger';
import type { RuntimeOptions } from '../../../src/config/types';

function runtime(configDir: string, over: Partial<RuntimeOptions> = {}): RuntimeOptions {
  return {
    configDir, configFile: '', logFilePath: '', logLevel: 'debug', logMaxSize: 10, logMaxBackups: 5, logMaxAge: 28,
    logCompress: false, logUTCTime: false, graceTime: 0, loadDataFrom: '', loadDataMode: 1, loadDataClean: false,
    loadDataQuotaScan: 0, ...over,
  };
}

function get(url: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    http.get(url, (res) => {
      let body = '';
      res.on('data', (d: Buffer) => (body += d.toString()));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
      res.on('error', reject);
    }).on('error', reject);
  });
}

test('startApp: --loaddata-from/--loaddata-clean, services with port 0 are not started, reload, idempotent stop', async (t) => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sftpgo-app-'));
  t.after(() => fs.rmSync(dir, { recursive: true, force: true }));
  const dumpFile = path.join(dir, 'dump.json');
  fs.writeFileSync(dumpFile, JSON.stringify({
    version: 17,
    users: [{ status: 1, username: 'loaded', password: 'secret-Pa55word', home_dir: path.join(dir, 'loaded'), permissions: { '/': ['*'] } }],
  }));
  const app2 = await startApp({
    runtime: runtime(dir, { loadDataFrom: dumpFile, loadDataMode: 0, loadDataClean: true }),
    logger: createNullLogger(),
    overrides: (c) => {
      c.data_provider.driver = 'memory';
      c.data_provider.name = '';
      c.sftpd.bindings = [{ port: 0, address: '127.0.0.1', apply_proxy_config: true }];
      c.httpd.bindings = c.httpd.bindings.map((b) => ({ ...b, port: 0 }));
      c.telemetry.bind_port = 0;
    },
  });
  t.after(() => app2.stop());
  assert.deepEqual(app2.services.map((s) => s.name), []);
  assert.deepEqual(app2.addresses('sftpd'), []);
  assert.ok(await app2.ctx.provider.getUser('loaded'), 'user loaded from --loaddata-from');
  assert.ok(!fs.existsSync(dumpFile), '--loaddata-clean removed the dump');
  await app2.reload();
  await Promise.all([app2.stop(), app2.stop()]);
});

test('startApp with telemetry on a free port exposes SFTPGo metrics', async (t) => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sftpgo-app-'));
  t.after(() => fs.rmSync(dir, { recursive: true, force: true }));
  const probe = http.createServer();
  await new Promise<void>((r) => probe.listen(0, '127.0.0.1', () => r()));
  const port = (probe.address() as { port: number }).port;
  await new Promise<void>((r) => probe.close(() => r()));
  const app = await startApp({
    runtime: runtime(dir),
    logger: createNullLogger(),
    overrides: (c) => {
      c.data_provider.driver = 'memory';
      c.data_provider.name = '';
      c.sftpd.bindings = [{ port: 0, address: '127.0.0.1', apply_proxy_config: true }];
      c.httpd.bindings = c.httpd.bindings.map((b) => ({ ...b, port: 0 }));
      c.telemetry.bind_port = port;
    },
  });
  t.after(() => app.stop());
  assert.deepEqual(app.services.map((s) => s.name), ['telemetry']);
  assert.equal(app.addresses('telemetry')[0].port, port);
  const h = await get(`http://127.0.0.1:${port}/healthz`);
  assert.equal(h.body, 'ok');
  app.ctx.metrics.sshCommand(false);
  const m = await get(`http://127.0.0.1:${port}/metrics`);
  assert.equal(m.status, 200);
  assert.match(m.body, /^sftpgo_ssh_commands_total 1$/m);
  assert.match(m.body, /^sftpgo_dataprovider_availability 1$/m);
  assert.match(m.body, /^process_cpu_user_seconds_total /m);
  assert.equal((await get(`http://127.0.0.1:${port}/nope`)).status, 404);
});
