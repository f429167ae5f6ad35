/**
 * A KMS plugin (a real go-plugin process) behind the secrets port: new
 * secrets go to the plugin for the URL's scheme and come back with its
 * status, built-in secrets stay readable, and a stopped plugin is an error,
 * never a plain value.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { PluginProcess } from '../../../src/plugins/process';
import { KMS_MAGIC_COOKIE, KmsPlugin, createKmsWithPlugins } from '../../../src/plugins/kms';
import { createKms } from '../../../src/kms';
import { captureLogger, pluginConfig, writePluginLauncher } from '../../support/plugin-fixtures';

let dir: string;
before(() => { dir = mkdtempSync(path.join(os.tmpdir(), 'plugin-kms-')); });
after(() => rmSync(dir, { recursive: true, force: true }));

test('secrets encrypted and decrypted by the KMS plugin for awskms://, local ones still readable', { timeout: 60_000 }, async () => {
  const proc = new PluginProcess({
    kind: 'kms', cfg: pluginConfig('kms', writePluginLauncher(dir, 'kms', 'kms'), { auto_mtls: true, kms_options: { scheme: 'awskms', encrypted_status: 'AWS' } }),
    magicCookie: KMS_MAGIC_COOKIE, logger: captureLogger(),
  });
  await proc.start();
  const secrets = { url: 'awskms://alias/sftpgo', master_key: 'the-master-key', master_key_path: '' };
  const kms = createKmsWithPlugins({ secrets }, dir, [new KmsPlugin(proc, 'awskms', 'AWS')]);
  const local = await createKms({ secrets: { ...secrets, url: '' } }, dir).encrypt('old local secret', 'u1');
  try {
    const s = await kms.encrypt('s3 secret key', 'alice');
    assert.equal(s.status, 'AWS');
    assert.equal(s.key, 'test-data-key');
    assert.equal(s.mode, 1);
    assert.equal(s.additional_data, 'alice');
    assert.ok(!String(s.payload).includes('s3 secret key'));
    assert.equal(kms.isEncrypted(s), true);
    assert.equal(await kms.decrypt(s), 's3 secret key');
    // another user's additional data does not decrypt it
    await assert.rejects(kms.decrypt({ ...s, additional_data: 'mallory' }), /kms: kms plugin .* cannot decrypt/);
    assert.equal(local.status, 'Secretbox');
    assert.equal(await kms.decrypt(local), 'old local secret');
    await proc.stop();
    await assert.rejects(kms.decrypt(s), /kms: kms plugin .* is not running/);
    await assert.rejects(kms.encrypt('x'), /is not running/);
  } finally {
    await proc.stop();
  }
});
