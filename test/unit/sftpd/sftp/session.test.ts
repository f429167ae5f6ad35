/**
 * serveSftp over an in-memory Duplex with a controllable FileOps: flow
 * control (pending WRITE bytes, in-flight READ bytes, outbound congestion)
 * and CLOSE reporting an upload's commit error.
 */
import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import { Duplex } from 'node:stream';
import { FsError } from '../../../../src/common/errors';
import type { Download, FileOps, Upload } from '../../../../src/common/types';
import { cleanVirtualPath } from '../../../../src/common/vpath';
import { PacketFramer } from '../../../../src/sftpd/sftp/framer';
import { PacketReader, PacketWriter } from '../../../../src/sftpd/sftp/packet';
import { PFLAG, PKT } from '../../../../src/sftpd/sftp/constants';
import { serveSftp } from '../../../../src/sftpd/sftp/session';
import { SFTP_STATUS } from '../../../../src/sftpd/status';
import type { FileInfo } from '../../../../src/vfs/fs';
import { captureLogger, type LogLine } from '../../../e2e/sftp-protocol/harness';

/** A channel whose outbound writes can be held (simulating a full SSH window). */
class FakeChannel extends Duplex {
  replies: Buffer[] = [];
  hold = false;
  held: Array<() => void> = [];
  private readonly framer = new PacketFramer(1 << 20);
  constructor(highWaterMark = 1) {
    super({ writableHighWaterMark: highWaterMark });
  }
  override _read(): void {}
  override _write(chunk: Buffer, _enc: BufferEncoding, cb: (e?: Error | null) => void): void {
    this.framer.push(chunk);
    for (let p = this.framer.next(); p; p = this.framer.next()) this.replies.push(p);
    if (this.hold) this.held.push(() => cb());
    else cb();
  }
  release(): void {
    this.hold = false;
    for (const f of this.held.splice(0)) f();
  }
  /** Lets the one held write complete (the next queued one is then held in turn). */
  releaseOne(): void {
    this.held.shift()?.();
  }
  statusOf(id: number): number | undefined {
    const p = this.replies.find((r) => r[0] === PKT.STATUS && r.readUInt32BE(1) === id);
    return p?.readUInt32BE(5);
  }
}

interface Deferred { resolve: () => void; promise: Promise<void> }
function deferred(): Deferred {
  let resolve!: () => void;
  const promise = new Promise<void>((r) => (resolve = r));
  return { resolve, promise };
}

const fileInfo: FileInfo = {
  name: 'f', size: 1 << 20, mode: 0o100644, mtime: new Date(), atime: new Date(), uid: 0, gid: 0,
  isDirectory: false, isFile: true, isSymlink: false,
};

/** FileOps whose writeAt/readAt wait until the test releases them. */
class GateOps {
  writes: Deferred[] = [];
  reads: Deferred[] = [];
  /** offsets written inline by writeNow; `inline` says whether the next writeNow succeeds */
  inlineWrites: number[] = [];
  inline = false;
  /** offsets in the order writeNow took them or writeAt was called: what the upload saw */
  issued: number[] = [];
  stats = 0;
  closeError?: FsError;
  closedWith: Array<Error | undefined> = [];
  readonly id = 'x';
  readonly protocol = 'SFTP' as const;
  readonly user = { status: 1, username: 'u', home_dir: '/tmp', permissions: {} };
  cleanPath(p: string, cwd = '/'): string { return cleanVirtualPath(p, cwd); }
  touch(): void {}
  setCommand(): void {}
  async stat(): Promise<FileInfo> { this.stats++; return fileInfo; }
  async openWrite(vpath: string): Promise<Upload> {
    const notUsed = (): never => { throw new FsError('Unsupported'); };
    return {
      id: 1, virtualPath: vpath,
      writeAt: (_b: Buffer, offset: number) => { this.issued.push(offset); const d = deferred(); this.writes.push(d); return d.promise; },
      writeNow: (_b: Buffer, offset: number) => {
        if (!this.inline) return false;
        this.inlineWrites.push(offset);
        this.issued.push(offset);
        return true;
      },
      close: async (err?: Error) => {
        this.closedWith.push(err);
        if (this.closeError) throw this.closeError;
      },
      createWriteStream: notUsed, readAt: notUsed, truncate: notUsed, stat: notUsed, sync: notUsed,
    };
  }
  async openRead(vpath: string): Promise<Download> {
    return {
      id: 2, virtualPath: vpath, size: 1 << 20,
      readAt: async (_b: Buffer, _o: number, len: number) => { const d = deferred(); this.reads.push(d); await d.promise; return len; },
      createReadStream: () => { throw new FsError('Unsupported'); },
      close: async () => undefined,
    };
  }
}

function req(type: number, id: number, fill: (w: PacketWriter) => void = () => undefined): Buffer {
  const w = new PacketWriter(type, id, 64);
  fill(w);
  return w.finish();
}

/** Lets pending promise callbacks and stream events run (bounded). */
async function settle(): Promise<void> {
  for (let i = 0; i < 20; i++) await new Promise<void>((r) => setImmediate(r));
}

async function start(opts: { maxPendingWriteBytes?: number; maxInflightReadBytes?: number; signal?: AbortSignal; maxOpenHandles?: number } = {}, highWaterMark = 1) {
  const ch = new FakeChannel(highWaterMark);
  const ops = new GateOps();
  const logs: LogLine[] = [];
  const done = serveSftp(ch, ops as unknown as FileOps, { logger: captureLogger(logs), connectionId: 't', homeDirectory: '/', ...opts });
  ch.push(new PacketWriter(PKT.INIT, 3).finish());
  ch.push(req(PKT.OPEN, 1, (w) => w.string('/f').u32(PFLAG.WRITE | PFLAG.CREAT).u32(0)));
  await settle();
  const handle = new PacketReader(ch.replies.find((r) => r[0] === PKT.HANDLE)!, 5).bytes();
  return { ch, ops, logs, done, handle };
}

test('pending WRITE bytes over the cap pause the channel until writes complete', async () => {
  const { ch, ops, done, handle } = await start({ maxPendingWriteBytes: 128 * 1024 });
  for (let i = 0; i < 10; i++) {
    ch.push(req(PKT.WRITE, 100 + i, (w) => w.string(handle).u64(i * 65536).string(Buffer.alloc(65536))));
  }
  await settle();
  // the first write is in the pool, the second waits behind it (same handle): 128 KiB pending
  assert.equal(ops.writes.length, 1);
  assert.equal(ch.isPaused(), true, 'only 128 KiB of writes are taken before pausing');
  // bounded: each release lets at least one more write in
  for (let i = 0; i < 20 && ops.writes.some((d) => d); i++) {
    const pending = ops.writes.splice(0);
    for (const d of pending) d.resolve();
    await settle();
  }
  for (let i = 0; i < 10; i++) assert.equal(ch.statusOf(100 + i), SFTP_STATUS.OK);
  assert.equal(ch.isPaused(), false);
  ch.push(null);
  await done;
});

test('WRITEs go inline when the upload allows it, and wait behind a pooled write of the same handle', async () => {
  const { ch, ops, done, handle } = await start();
  const write = (id: number, offset: number): void => {
    ch.push(req(PKT.WRITE, id, (w) => w.string(handle).u64(offset).string(Buffer.alloc(16))));
  };
  write(300, 0); // pooled: writeNow declines
  await settle();
  assert.equal(ops.writes.length, 1);
  ops.inline = true;
  write(301, 16); // would fit inline, but the pooled write is still pending: it waits, keeping the order
  write(302, 32);
  await settle();
  assert.deepEqual(ops.inlineWrites, []);
  assert.equal(ch.statusOf(301), undefined);
  for (const d of ops.writes.splice(0)) d.resolve();
  await settle();
  // then both go inline, in order, and the handle stays on the inline path
  assert.deepEqual(ops.inlineWrites, [16, 32]);
  write(303, 48);
  await settle();
  assert.deepEqual(ops.inlineWrites, [16, 32, 48]);
  assert.equal(ops.writes.length, 0);
  for (const id of [300, 301, 302, 303]) assert.equal(ch.statusOf(id), SFTP_STATUS.OK);
  ch.push(null);
  await done;
});

test('WRITEs of a handle reach the upload in the order they were sent, while the session is blocked on pending bytes', async () => {
  // Each pooled write that completes unblocks the session, which dispatches the next buffered WRITE
  // from that same completion: it must not overtake a WRITE already waiting for its turn (an
  // object-store upload refuses data out of order beyond what it can hold).
  // a roomy channel: replies never block the session, only pending write bytes do
  const { ch, ops, done, handle } = await start({ maxPendingWriteBytes: 3 * 65536 }, 1 << 20);
  const count = 24;
  for (let i = 0; i < count; i++) {
    ch.push(req(PKT.WRITE, 400 + i, (w) => w.string(handle).u64(i * 65536).string(Buffer.alloc(65536))));
  }
  await settle();
  // bounded: each round completes one pooled write (or lets inline ones through)
  for (let round = 0; round < 4 * count && ops.issued.length < count; round++) {
    ops.inline = round % 3 === 2;
    ops.writes.shift()?.resolve();
    await settle();
  }
  for (const d of ops.writes.splice(0)) d.resolve();
  await settle();
  assert.deepEqual(ops.issued, Array.from({ length: count }, (_, i) => i * 65536));
  for (let i = 0; i < count; i++) assert.equal(ch.statusOf(400 + i), SFTP_STATUS.OK, `WRITE ${400 + i}`);
  ch.push(null);
  await done;
});

test('a WRITE dispatched at any moment of a pooled write\'s completion does not overtake one waiting for it', async () => {
  // The next WRITE can be dispatched from any microtask (a request completing, channel data pushed):
  // try each point of the completion's promise chain in turn.
  for (let hops = 0; hops <= 12; hops++) {
    const { ch, ops, done, handle } = await start({}, 1 << 20);
    const write = (id: number, offset: number): void => {
      ch.push(req(PKT.WRITE, id, (w) => w.string(handle).u64(offset).string(Buffer.alloc(16))));
    };
    write(500, 0); // pooled
    write(501, 16); // waits behind it
    await settle();
    assert.deepEqual(ops.issued, [0], `hops ${hops}`);
    ops.writes.shift()!.resolve();
    let chain = Promise.resolve();
    for (let i = 0; i < hops; i++) chain = chain.then(() => undefined);
    void chain.then(() => write(502, 32));
    await settle();
    for (let i = 0; i < 4 && ops.writes.length > 0; i++) {
      for (const d of ops.writes.splice(0)) d.resolve();
      await settle();
    }
    assert.deepEqual(ops.issued, [0, 16, 32], `the third WRITE sent ${hops} microtasks into the first one's completion`);
    for (const id of [500, 501, 502]) assert.equal(ch.statusOf(id), SFTP_STATUS.OK);
    ch.push(null);
    await done;
  }
});

test('in-flight READ bytes are capped', async () => {
  const { ch, ops, done } = await start({ maxInflightReadBytes: 100 * 1024 });
  ch.push(req(PKT.OPEN, 2, (w) => w.string('/r').u32(PFLAG.READ).u32(0)));
  await settle();
  const handle = new PacketReader(ch.replies.filter((r) => r[0] === PKT.HANDLE)[1]!, 5).bytes();
  for (let i = 0; i < 6; i++) ch.push(req(PKT.READ, 200 + i, (w) => w.string(handle).u64(i * 65536).u32(65536)));
  await settle();
  assert.equal(ops.reads.length, 2);
  for (let i = 0; i < 20 && ops.reads.length > 0; i++) {
    for (const d of ops.reads.splice(0)) d.resolve();
    await settle();
  }
  const data = ch.replies.filter((r) => r[0] === PKT.DATA);
  assert.equal(data.length, 6);
  // type, id, data length, payload
  assert.ok(data.every((r) => r.readUInt32BE(5) === 65536 && r.length === 9 + 65536));
  ch.push(null);
  await done;
});

test('a congested channel stops request processing until it drains', async () => {
  const { ch, ops, done } = await start();
  ch.hold = true;
  ch.push(req(PKT.STAT, 10, (w) => w.string('/a')));
  await settle();
  // the STAT reply filled the (1-byte) channel buffer: the next request waits
  ch.push(req(PKT.STAT, 11, (w) => w.string('/b')));
  await settle();
  assert.equal(ops.stats, 1);
  ch.release();
  await settle();
  assert.equal(ops.stats, 2);
  ch.push(null);
  await done;
});

test('a blocked download takes requests again once the queued replies fall to 1 MiB, before they drain', async () => {
  // ssh2's channel buffers 2 MiB before write() says stop
  const { ch, ops, done } = await start({}, 2 * 1024 * 1024);
  ch.push(req(PKT.OPEN, 2, (w) => w.string('/r').u32(PFLAG.READ).u32(0)));
  await settle();
  const handle = new PacketReader(ch.replies.filter((r) => r[0] === PKT.HANDLE)[1]!, 5).bytes();
  const len = 255 * 1024;
  ch.hold = true;
  for (let i = 0; i < 9; i++) ch.push(req(PKT.READ, 300 + i, (w) => w.string(handle).u64(i * len).u32(len)));
  await settle();
  for (const d of ops.reads.splice(0)) d.resolve();
  await settle();
  // nine replies (2.2 MiB) queued: over the high-water mark, the next READ waits
  ch.push(req(PKT.READ, 309, (w) => w.string(handle).u64(9 * len).u32(len)));
  await settle();
  assert.equal(ops.reads.length, 0);
  let queuedAtResume = -1;
  for (let i = 0; i < 9 && queuedAtResume < 0; i++) {
    ch.releaseOne();
    await settle();
    if (ops.reads.length > 0) queuedAtResume = ch.writableLength;
  }
  assert.ok(queuedAtResume > 0 && queuedAtResume <= 1024 * 1024, `resumed with ${queuedAtResume} bytes queued`);
  ch.release();
  for (const d of ops.reads.splice(0)) d.resolve();
  await settle();
  assert.equal(ch.replies.filter((r) => r[0] === PKT.DATA).length, 10);
  ch.push(null);
  await done;
});

test('CLOSE of an upload reports the commit error', async () => {
  const { ch, ops, done, handle } = await start();
  ops.closeError = new FsError('QuotaExceeded');
  ch.push(req(PKT.CLOSE, 50, (w) => w.string(handle)));
  await settle();
  const reply = ch.replies.find((r) => r[0] === PKT.STATUS && r.readUInt32BE(1) === 50)!;
  const r = new PacketReader(reply, 5);
  assert.deepEqual([r.u32(), r.string()], [SFTP_STATUS.FAILURE, 'failure: denying write due to space limit']);
  ch.push(null);
  await done;
});

test('a first packet other than INIT ends the session with a log line', async () => {
  const ch = new FakeChannel();
  const logs: LogLine[] = [];
  const done = serveSftp(ch, new GateOps() as unknown as FileOps, { logger: captureLogger(logs), connectionId: 'c9', homeDirectory: '/' });
  ch.push(req(PKT.STAT, 1, (w) => w.string('/')));
  await done;
  assert.ok(logs.some((l) => l.sender === 'sftpd' && l.level === 'warn' && l.fields?.connection_id === 'c9'));
  assert.equal(ch.writableEnded, true);
});

test('an aborted signal ends a congested session and aborts its open upload', async () => {
  const gone = new AbortController();
  const { ch, ops, done, handle } = await start({ signal: gone.signal });
  ch.hold = true;
  ch.push(req(PKT.STAT, 10, (w) => w.string('/a')));
  await settle();
  ch.push(req(PKT.WRITE, 11, (w) => w.string(handle).u64(0).string(Buffer.alloc(10))));
  await settle();
  // the peer is gone: replies never drain and the channel never emits 'end'
  assert.equal(ops.writes.length, 0);
  gone.abort();
  await done;
  assert.equal(ops.closedWith.length, 1);
  assert.ok(ops.closedWith[0] instanceof FsError && ops.closedWith[0].kind === 'Aborted');
});

test('the handle table is capped and READ replies never exceed 255 KiB', async () => {
  const { ch, ops, done } = await start({ maxOpenHandles: 2 });
  ch.push(req(PKT.OPEN, 2, (w) => w.string('/r').u32(PFLAG.READ).u32(0)));
  ch.push(req(PKT.OPEN, 3, (w) => w.string('/r').u32(PFLAG.READ).u32(0)));
  await settle();
  const r3 = new PacketReader(ch.replies.find((r) => r[0] === PKT.STATUS && r.readUInt32BE(1) === 3)!, 5);
  assert.deepEqual([r3.u32(), r3.string()], [SFTP_STATUS.FAILURE, 'too many open handles']);
  const handle = new PacketReader(ch.replies.find((r) => r[0] === PKT.HANDLE && r.readUInt32BE(1) === 2)!, 5).bytes();
  ch.push(req(PKT.READ, 4, (w) => w.string(handle).u64(0).u32(1 << 20)));
  await settle();
  for (const d of ops.reads.splice(0)) d.resolve();
  await settle();
  const data = ch.replies.find((r) => r[0] === PKT.DATA && r.readUInt32BE(1) === 4)!;
  assert.equal(data.readUInt32BE(5), 255 * 1024);
  // an unknown handle is a FAILURE, not a crash
  ch.push(req(PKT.READ, 5, (w) => w.string(Buffer.from('nope')).u64(0).u32(10)));
  await settle();
  assert.equal(ch.statusOf(5), SFTP_STATUS.FAILURE);
  ch.push(null);
  await done;
});
