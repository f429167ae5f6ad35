/**
 * The IP filter plugin in front of the perimeter: allowed and denied
 * addresses, and a plugin that is not running denies everyone (fail closed)
 * without asking the perimeter behind it.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { PluginProcess } from '../../../src/plugins/process';
import { IPFILTER_MAGIC_COOKIE, IpFilterPlugin, withIpFilterPlugins } from '../../../src/plugins/ipfilter';
import { openPerimeter } from '../../../src/common/perimeter';
import { captureLogger, pluginConfig, writePluginLauncher } from '../../support/plugin-fixtures';

let dir: string;
before(() => { dir = mkdtempSync(path.join(os.tmpdir(), 'plugin-ipfilter-')); });
after(() => rmSync(dir, { recursive: true, force: true }));

test('denied addresses are refused before the perimeter; a stopped plugin denies everyone', { timeout: 60_000 }, async () => {
  const logger = captureLogger();
  const proc = new PluginProcess({
    kind: 'ipfilter', cfg: pluginConfig('ipfilter', writePluginLauncher(dir, 'ipfilter', 'ipfilter'), { args: ['--deny=10.1.2.3'] }),
    magicCookie: IPFILTER_MAGIC_COOKIE, logger, restartDelaysMs: [50],
  });
  await proc.start();
  let innerAsked = 0;
  const inner = { ...openPerimeter(), checkConnection: () => { innerAsked++; return Promise.resolve(); } };
  const perimeter = withIpFilterPlugins(inner, [new IpFilterPlugin(proc, logger)]);
  try {
    await perimeter.checkConnection('192.0.2.1', 'SSH');
    assert.equal(innerAsked, 1);
    await assert.rejects(perimeter.checkConnection('10.1.2.3', 'FTP'), (e: Error & { kind?: string }) => e.kind === 'PermissionDenied');
    assert.equal(innerAsked, 1);
  } finally {
    await proc.stop();
  }
  await assert.rejects(perimeter.checkConnection('192.0.2.1', 'SSH'), /denied by the IP filter plugin/);
  assert.equal(innerAsked, 1);
  assert.ok(logger.lines.some((l) => l.level === 'warn' && /192\.0\.2\.1 \(SSH\) denied by ipfilter plugin .* is not running/.test(l.message)), logger.text());
});
