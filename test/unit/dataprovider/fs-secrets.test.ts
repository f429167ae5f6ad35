/**
 * Storage settings on save: S3 secrets sealed with the kms (SFTPGo's
 * additional data), kept when an update sends back the hidden form, hidden
 * on output; a plain secret without a kms refused.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { openDataProvider } from '../../../src/dataprovider/index';
import { toPublicFolder, toPublicUser, type Secret } from '../../../src/dataprovider/models';
import { isValidationError } from '../../../src/dataprovider/validation';
import { testKms } from '../../support/filesystems';
import { providerConfig, RecordingLogger, tempDir, userInput } from './support';

const s3 = (secret: unknown): Record<string, unknown> => ({
  provider: 1, s3config: { bucket: 'b', region: 'eu-west-1', access_key: 'AK', access_secret: secret, key_prefix: '/a//b' },
});

test('S3 secrets: sealed on save, kept on an update with the hidden form, hidden on output', async (t) => {
  const kms = testKms();
  const p = await openDataProvider({ config: providerConfig({ driver: 'memory', name: '' }), configDir: tempDir(t), logger: new RecordingLogger(), migrate: true, env: {}, kms });
  t.after(() => p.close());
  await p.addUser(userInput('u1', { filesystem: s3({ status: 'Plain', payload: 'top-secret' }) }));
  const stored = (await p.getUser('u1'))!;
  const sealed = stored.filesystem?.s3config?.access_secret as Secret;
  assert.equal(sealed.status, 'Secretbox');
  assert.equal(stored.filesystem?.s3config?.key_prefix, 'a/b/');
  assert.equal(await kms.decrypt(sealed), 'top-secret');
  const shown = toPublicUser(stored);
  assert.deepEqual(shown.filesystem?.s3config?.access_secret, { status: 'Secretbox', payload: sealed.payload });
  // the admin sends back what the API showed: the stored secret stays usable
  await p.updateUser('u1', { ...userInput('u1'), filesystem: shown.filesystem });
  assert.equal(await kms.decrypt((await p.getUser('u1'))!.filesystem?.s3config?.access_secret as Secret), 'top-secret');
  // a new plain secret replaces it
  await p.updateUser('u1', { ...userInput('u1'), filesystem: s3({ status: 'Plain', payload: 'rotated' }) });
  assert.equal(await kms.decrypt((await p.getUser('u1'))!.filesystem?.s3config?.access_secret as Secret), 'rotated');
  // folders: additional data folder_<name>, hidden on output
  const f = await p.addFolder({ name: 'fo', filesystem: s3({ status: 'Plain', payload: 'folder-secret' }) });
  const fs = f.filesystem?.s3config?.access_secret as Secret;
  assert.equal(fs.additional_data, 'folder_fo');
  assert.equal(toPublicFolder(f).filesystem?.s3config?.access_secret && Object.keys(toPublicFolder(f).filesystem?.s3config?.access_secret as object).sort().join(), 'payload,status');
});

test('a plain storage secret without a kms is refused, nothing stored', async (t) => {
  const p = await openDataProvider({ config: providerConfig({ driver: 'memory', name: '' }), configDir: tempDir(t), logger: new RecordingLogger(), migrate: true, env: {} });
  t.after(() => p.close());
  await assert.rejects(p.addUser(userInput('u2', { filesystem: s3({ status: 'Plain', payload: 'x' }) })), (e: unknown) => isValidationError(e) && /no kms/.test((e as Error).message));
  assert.equal(await p.getUser('u2'), undefined);
});
