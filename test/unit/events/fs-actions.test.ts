/** SFTPGo's FsEvent JSON and env, config validation, and the bounded queue's drop rule. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { FsError } from '../../../src/common/errors';
import type { FsEventInput } from '../../../src/common/events';
import type { User } from '../../../src/dataprovider/models';
import { fsEventEnv, fsEventJson, toFsEventRecord, validateActionsConfig } from '../../../src/events/fs-actions';
import { withoutSecrets } from '../../../src/events/provider-actions';
import { BoundedQueue } from '../../../src/events/queue';
import { RecordingLogger } from '../common/support';

const user = { username: 'u1', role: 'r1' } as User;
const input = (over: Partial<FsEventInput> = {}): FsEventInput => ({
  action: 'rename', session: { id: 'SFTP_abc', protocol: 'SFTP', user, remoteAddr: '10.1.2.3:4567' },
  fsPath: '/h/a', virtualPath: '/a', fsTargetPath: '/h/b', virtualTargetPath: '/b', fileSize: 0, elapsedMs: 12, fsProvider: 0, ...over,
});

test('JSON body: Go field order, omitempty, nanosecond timestamp as an integer', () => {
  const json = fsEventJson(toFsEventRecord(input(), 1_700_000_000_123));
  assert.equal(json,
    '{"action":"rename","username":"u1","path":"/h/a","target_path":"/h/b","virtual_path":"/a","virtual_target_path":"/b",' +
    '"fs_provider":0,"status":1,"protocol":"SFTP","ip":"10.1.2.3","session_id":"SFTP_abc","timestamp":1700000000123000000,' +
    '"role":"r1","elapsed":12}\n');
});

test('status 3 for a quota error, 2 for any other error', () => {
  assert.equal(toFsEventRecord(input({ error: new FsError('QuotaExceeded') }), 0).status, 3);
  assert.equal(toFsEventRecord(input({ error: new FsError('Generic', 'x') }), 0).status, 2);
  assert.equal(fsEventEnv(toFsEventRecord(input({ error: new Error('x') }), 0)).SFTPGO_ACTION_STATUS, '2');
});

test('unknown action names and relative hook paths stop start-up', () => {
  assert.throws(() => validateActionsConfig({ execute_on: ['uplaod'], execute_sync: [], hook: '' }), /unknown action "uplaod"/);
  assert.throws(() => validateActionsConfig({ execute_on: ['upload'], execute_sync: [], hook: 'hook.sh' }), /absolute path/);
  assert.throws(() => validateActionsConfig({ execute_on: ['upload'], execute_sync: [], hook: '/nonexistent/hook' }), /does not exist/);
  validateActionsConfig({ execute_on: ['upload'], execute_sync: ['upload'], hook: 'http://127.0.0.1:1/x' });
});

test('secrets are stripped from provider objects', () => {
  const out = withoutSecrets({
    username: 'u', password: '$2a$10$hash', filesystem: { s3config: { access_secret: { status: 'Secretbox', payload: 'enc', key: 'k' } } },
    filters: { totp_config: { secret: { status: 'AES-256-GCM', payload: 'p' } } },
  });
  assert.deepEqual(out, {
    username: 'u',
    filesystem: { s3config: { access_secret: { status: 'Secretbox', payload: '', key: '', additional_data: '', mode: 0 } } },
    filters: { totp_config: { secret: { status: 'AES-256-GCM', payload: '', key: '', additional_data: '', mode: 0 } } },
  });
});

test('the queue runs at most `concurrency` jobs, keeps `maxPending`, drops and counts the rest', async () => {
  const logger = new RecordingLogger();
  const q = new BoundedQueue({ name: 'test', concurrency: 2, maxPending: 3, logger, logEvery: 2 });
  let release: () => void = () => undefined;
  const gate = new Promise<void>((resolve) => { release = resolve; });
  let ran = 0;
  const results: boolean[] = [];
  for (let i = 0; i < 8; i++) results.push(q.push(async () => { await gate; ran++; }));
  assert.deepEqual(results, [true, true, true, true, true, false, false, false]);
  assert.equal(q.droppedCount, 3);
  assert.equal(q.size, 5);
  release();
  await q.drain();
  assert.equal(ran, 5);
  // the first drop and every 2nd after it are logged, not each one
  assert.equal(logger.lines.filter((l) => /queue full/.test(l.message)).length, 2);
});
