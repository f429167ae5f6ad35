/**
 * Node-to-node tokens (cluster/node.ts): a token made for node B is accepted
 * by B once, refused by another node, refused when replayed, expired or
 * forged; a node row with bad data is an error, not a crash.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { SignJWT } from 'jose';
import { ClusterNode, nodeName, parseNodeData } from '../../../src/cluster/node';
import type { ClusterStore, NodeRecord } from '../../../src/dataprovider/sql/nodes';
import type { SecretsKms } from '../../../src/kms/types';
import type { Secret } from '../../../src/dataprovider/models';
import { RecordingLogger } from '../common/support';

/** The rows a real store would hold, in memory (the SQL store itself runs in test/e2e/cluster). */
function memoryStore(): ClusterStore & { rows: Map<string, NodeRecord> } {
  const rows = new Map<string, NodeRecord>();
  return {
    rows,
    async upsertNode(name, data, now) { rows.set(name, { name, data, created_at: now, updated_at: now }); },
    async touchNode(name, now) { const r = rows.get(name); if (r) r.updated_at = now; return r !== undefined; },
    async listNodes(since, exclude) { return [...rows.values()].filter((r) => r.name !== exclude && r.updated_at > since); },
    async getNode(name, since) { const r = rows.get(name); return r && r.updated_at > since ? r : undefined; },
    async cleanupNodes() { /* not exercised */ },
    async addSession() { /* not exercised */ },
    async removeSession() { /* not exercised */ },
    async clearSessions() { /* not exercised */ },
    async countSessions() { return 0; },
  };
}

/** A reversible KMS that marks its output, so the test sees the key was stored encrypted, never plain. */
const kms: SecretsKms = {
  async encrypt(plain, additionalData) { return { status: 'Test', payload: Buffer.from(plain).toString('base64'), additional_data: additionalData }; },
  async decrypt(s: Secret) { return Buffer.from(s.payload ?? '', 'base64').toString(); },
  isEncrypted: (s) => s.status === 'Test',
};

test('node tokens: accepted once by their target only, refused when expired, forged or replayed', async () => {
  const store = memoryStore();
  let now = Date.now();
  const logger = new RecordingLogger();
  const mk = (port: number): ClusterNode => new ClusterNode({ store, kms, logger, settings: { host: '127.0.0.1', port, proto: 'http' }, now: () => now });
  const [a, b, c] = [mk(1001), mk(1002), mk(1003)];
  for (const n of [a, b, c]) await n.start();
  try {
    assert.equal(b.name, nodeName('127.0.0.1', 1002));
    const rowB = store.rows.get(b.name)!;
    assert.equal(parseNodeData(rowB).api_key.status, 'Test', 'the key is stored through the KMS');
    assert.deepEqual((await a.peers()).map((p) => p.name).sort(), [b.name, c.name].sort());

    const token = await a.tokenFor(rowB, { username: 'admin', role: '', permissions: ['view_conns'] });
    await assert.rejects(c.verifyToken(token), 'another node refuses it');
    assert.deepEqual(await b.verifyToken(token), { username: 'admin', role: '', permissions: ['view_conns'] });
    await assert.rejects(b.verifyToken(token), /already used/);
    // two tokens for the same call in the same second are distinct
    const t1 = await a.tokenFor(rowB, { username: 'admin', role: '', permissions: ['view_conns'] });
    const t2 = await a.tokenFor(rowB, { username: 'admin', role: '', permissions: ['view_conns'] });
    assert.notEqual(t1, t2);

    const late = await a.tokenFor(rowB, { username: 'admin', role: '', permissions: ['close_conns'] });
    now += 5 * 60_000;
    await assert.rejects(b.verifyToken(late), 'expired');
    const forged = await new SignJWT({ username: 'admin', permissions: ['*'] }).setProtectedHeader({ alg: 'HS256' })
      .setAudience('node').setExpirationTime(Math.floor(now / 1000) + 60).sign(Buffer.from('not-the-key'));
    await assert.rejects(b.verifyToken(forged));
    await assert.rejects(b.verifyToken(''));

    assert.throws(() => parseNodeData({ ...rowB, data: '{"host":1}' }), /invalid data/);
    assert.throws(() => parseNodeData({ ...rowB, data: 'not json' }), /invalid data/);
    assert.throws(() => new ClusterNode({ store, kms, logger, settings: { host: '', port: 1, proto: 'http' } }), /node.host is mandatory/);
    assert.throws(() => new ClusterNode({ store, kms, logger, settings: { host: 'h', port: 1, proto: 'ftp' } }), /invalid data_provider.node.proto/);
  } finally {
    for (const n of [a, b, c]) await n.stop();
  }
});
