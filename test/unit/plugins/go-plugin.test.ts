/**
 * The host against a real Go plugin: test/support/go-plugin/ipfilter.go built
 * with Debian's golang-go and golang-github-hashicorp-go-plugin-dev in GOPATH
 * mode (.ci/run installs them), so the handshake, Go's gRPC server, its
 * health service, GRPCController and go-plugin's AutoMTLS (Go's TLS stack)
 * are exercised as SFTPGo's real plugins would.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { PluginProcess } from '../../../src/plugins/process';
import { IPFILTER_MAGIC_COOKIE, IpFilterPlugin } from '../../../src/plugins/ipfilter';
import { captureLogger, pluginConfig } from '../../support/plugin-fixtures';

const SOURCE = path.resolve(__dirname, '..', '..', '..', '..', 'test', 'support', 'go-plugin', 'ipfilter.go');
let dir: string;
let binary: string;

before(async () => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'plugin-go-'));
  binary = path.join(dir, 'goipfilter');
  await new Promise<void>((resolve, reject) => {
    const child = execFile('go', ['build', '-o', binary, SOURCE], {
      timeout: 600_000,
      env: { ...process.env, GO111MODULE: 'off', GOPATH: '/usr/share/gocode', GOCACHE: path.join(os.tmpdir(), 'sftpgo-ts-plugin-gocache'), GOFLAGS: '' },
    }, (err, _out, stderr) => (err ? reject(new Error(`go build failed (golang-go and golang-github-hashicorp-go-plugin-dev are needed): ${stderr || err.message}`)) : resolve()));
    child.on('error', () => undefined);
  });
});
after(() => rmSync(dir, { recursive: true, force: true }));

for (const mtls of [false, true]) {
  test(`a Go go-plugin IP filter${mtls ? ' with AutoMTLS' : ''}: allowed, denied, graceful shutdown`, { timeout: 120_000 }, async () => {
    const logger = captureLogger();
    const proc = new PluginProcess({
      kind: 'ipfilter', cfg: pluginConfig('ipfilter', binary, { args: ['--deny=203.0.113.9'], auto_mtls: mtls }),
      magicCookie: IPFILTER_MAGIC_COOKIE, logger,
    });
    await proc.start();
    const pid = proc.pid!;
    try {
      const filter = new IpFilterPlugin(proc, logger);
      await filter.check('192.0.2.1', 'SSH').catch((e: Error) => assert.fail(`${e.message}\n${logger.text()}`));
      await assert.rejects(filter.check('203.0.113.9', 'SSH'), /denied by the IP filter plugin/);
      assert.ok(logger.lines.some((l) => /ip 203\.0\.113\.9 denied by the go plugin/.test(l.message)), logger.text());
    } finally {
      await proc.stop();
    }
    assert.throws(() => process.kill(pid, 0));
  });
}
