/** The post-disconnect hook fired when a registered session goes: its duration starts at the client's connection when the adapter knows it (FTP). */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { createConnectionManager } from '../../../src/common/manager';
import { withDisconnectHook } from '../../../src/hooks/connection-tracker';
import { testFilesystems } from '../../support/filesystems';
import { commonConfig, makeUser, QuotaRecorder, RecordingLogger, RecordingMetrics } from '../common/support';
import { hookServer, json, makeHooks } from './support';

test('duration from connectedAt (FTP connected before its login), else from the registration', async (t) => {
  const srv = await hookServer(t, (_req, res) => json(res, 200, ''));
  const f = await makeHooks(t, (c) => { c.common.post_disconnect_hook = srv.url; });
  const logger = new RecordingLogger();
  const metrics = new RecordingMetrics();
  const inner = createConnectionManager({ config: commonConfig(), logger, metrics, provider: new QuotaRecorder(), filesystems: testFilesystems(commonConfig(), logger, metrics) });
  let clock = 50_000;
  const mgr = withDisconnectHook(inner, f.hooks, () => clock);
  const user = makeUser(path.join(f.dir, 'home'));
  const session = { disconnect: () => undefined };
  const ftp = mgr.add({ protocol: 'FTP', user, remoteAddr: '192.0.2.7:4000', localAddr: '127.0.0.1:21', session, connectedAt: 42_000 });
  const sftp = mgr.add({ protocol: 'SFTP', user, remoteAddr: '192.0.2.8:4000', localAddr: '127.0.0.1:22', session });
  clock = 53_500;
  await mgr.remove(ftp.id);
  await mgr.remove(sftp.id);
  await f.hooks.drain();
  const got = srv.requests.map((r) => `${r.url.searchParams.get('protocol')} ${r.url.searchParams.get('connection_duration')}`).sort();
  assert.deepEqual(got, ['FTP 11500', 'SFTP 3500']);
});
