import assert from 'node:assert/strict';
import type { User } from '../../../src/dataprovider/models';
import type { CommonConfig } from '../../../src/config/types';
import { createConnectionManager, type ManagedConnectionManager } from '../../../src/common/manager';
import type { Connection } from '../../../src/common/connection';
import { isFsError } from '../../../src/common/errors';
import { commonConfig, QuotaRecorder, RecordingLogger, RecordingMetrics } from './support';
import { testFilesystems } from '../../support/filesystems';

export interface Harness {
  mgr: ManagedConnectionManager;
  conn: Connection;
  logger: RecordingLogger;
  metrics: RecordingMetrics;
  provider: QuotaRecorder;
}

/** A manager with recording seams and one connected session for `user`. */
export async function connect(user: User, cfg: Partial<CommonConfig> = {}, provider?: QuotaRecorder): Promise<Harness> {
  const logger = new RecordingLogger();
  const metrics = new RecordingMetrics();
  const prov = provider ?? new QuotaRecorder([user], (user.virtual_folders ?? []).map((f) => ({ name: f.name, mapped_path: f.mapped_path })));
  const mgr = createConnectionManager({ config: commonConfig(cfg), logger, metrics, provider: prov, filesystems: testFilesystems(commonConfig(cfg), logger, metrics) });
  const ops = mgr.add({ protocol: 'SFTP', user, remoteAddr: '127.0.0.1:5555', localAddr: '127.0.0.1:2022', session: { disconnect: () => undefined } });
  const conn = mgr.get(ops.id);
  assert.ok(conn);
  await conn.ensureRoots();
  return { mgr, conn, logger, metrics, provider: prov };
}

export async function rejectsKind(p: Promise<unknown>, kind: string): Promise<void> {
  await assert.rejects(p, (e: unknown) => {
    assert.ok(isFsError(e), `expected FsError, got ${String(e)}`);
    assert.equal(e.kind, kind, `expected ${kind}, got ${e.kind}: ${e.message}`);
    return true;
  });
}

export async function writeFile(conn: Connection, vpath: string, data: string | Buffer): Promise<void> {
  const up = await conn.openWrite(vpath, { truncate: true, append: false, exclusive: false, read: false, offset: 0 });
  await up.writeAt(Buffer.from(data), 0);
  await up.close();
}

export async function readAll(conn: Connection, vpath: string): Promise<string> {
  const d = await conn.openRead(vpath);
  const buf = Buffer.alloc(d.size);
  let off = 0;
  while (off < d.size) {
    const n = await d.readAt(buf, off, d.size - off, off);
    if (n === 0) break;
    off += n;
  }
  await d.close();
  return buf.subarray(0, off).toString();
}

export async function listNames(conn: Connection, vpath: string): Promise<string[]> {
  const names: string[] = [];
  for await (const b of conn.readDir(vpath)) names.push(...b.map((f) => f.name));
  return names.sort();
}
