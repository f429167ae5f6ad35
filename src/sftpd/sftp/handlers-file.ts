/**
 * Handle-based requests: OPEN, CLOSE, READ, WRITE, FSTAT, FSETSTAT, OPENDIR,
 * READDIR. Opening goes only through FileOps.openRead/openWrite.
 */
import { constants as fsc } from 'node:fs';
import { FsError } from '../../common/errors';
import type { Download, Upload } from '../../common/types';
import type { FileInfo, SetStatAttrs } from '../../vfs/fs';
import { vdir } from '../../common/vpath';
import { SFTP_STATUS } from '../status';
import { DATA_HEADER_LEN, PFLAG, PKT, READDIR_BATCH } from './constants';
import {
  closeEntry, newTracked, useEntry, whenIdle, type DirEntry, type FileEntry,
} from './handles';
import { DataPackets } from './direct-data';
import { pacePlainWrites } from '../channel-pacing';
import { formatLongname } from './longname';
import {
  namePacket, PacketWriter, readAttrs, statusPacket, type NameEntry, type SftpAttrs,
} from './packet';
import type { RequestHandler, SftpSession } from './session';

const ok = (id: number): Buffer => statusPacket(id, SFTP_STATUS.OK, 'Success');
const invalidHandle = (id: number): Buffer => statusPacket(id, SFTP_STATUS.FAILURE, 'invalid handle');
const tooManyHandles = (id: number): Buffer => statusPacket(id, SFTP_STATUS.FAILURE, 'too many open handles');

function handlePacket(id: number, handle: Buffer): Buffer {
  return new PacketWriter(PKT.HANDLE, id, 16 + handle.length).string(handle).finish();
}

export function attrsPacket(id: number, info: FileInfo): Buffer {
  return new PacketWriter(PKT.ATTRS, id, 48).attrs(info).finish();
}

/** SFTP pflags as the OS open flags SFTPGo reports in SFTPGO_ACTION_OPEN_FLAGS. */
export function osOpenFlags(pflags: number): number {
  let f = pflags & PFLAG.READ && pflags & PFLAG.WRITE ? fsc.O_RDWR : pflags & PFLAG.WRITE ? fsc.O_WRONLY : fsc.O_RDONLY;
  if (pflags & PFLAG.APPEND) f |= fsc.O_APPEND;
  if (pflags & PFLAG.CREAT) f |= fsc.O_CREAT;
  if (pflags & PFLAG.TRUNC) f |= fsc.O_TRUNC;
  if (pflags & PFLAG.EXCL) f |= fsc.O_EXCL;
  return f;
}

export function toSetStat(a: SftpAttrs): SetStatAttrs {
  const out: SetStatAttrs = {};
  if (a.size !== undefined) out.size = a.size;
  if (a.uid !== undefined) out.uid = a.uid;
  if (a.gid !== undefined) out.gid = a.gid;
  if (a.permissions !== undefined) out.mode = a.permissions & 0o7777;
  if (a.atime !== undefined) out.atime = new Date(a.atime * 1000);
  if (a.mtime !== undefined) out.mtime = new Date(a.mtime * 1000);
  return out;
}

export function fileEntry(s: SftpSession, handle: Buffer): FileEntry | undefined {
  const e = s.handles.get(handle);
  return e?.kind === 'file' ? e : undefined;
}

/** What READ and copy-data read from: a download, or an upload opened READ|WRITE. */
export function readerOf(e: FileEntry): Download | Upload | undefined {
  return e.download ?? (e.readable ? e.upload : undefined);
}

const open: RequestHandler = async (s, id, r) => {
  const vpath = s.resolve(r.string());
  const pflags = r.u32();
  const attrs = readAttrs(r);
  if (s.handles.full) return tooManyHandles(id);
  let entry: FileEntry;
  if (!(pflags & PFLAG.WRITE)) {
    const download = await s.ops.openRead(vpath);
    entry = { kind: 'file', vpath, download, readable: true, ...newTracked() };
  } else {
    const upload = await s.ops.openWrite(vpath, {
      truncate: (pflags & PFLAG.TRUNC) !== 0,
      append: (pflags & PFLAG.APPEND) !== 0,
      exclusive: (pflags & PFLAG.EXCL) !== 0,
      read: (pflags & PFLAG.READ) !== 0,
      offset: 0,
      ...(attrs.permissions !== undefined ? { mode: attrs.permissions & 0o7777 } : {}),
      openFlags: osOpenFlags(pflags),
    });
    entry = { kind: 'file', vpath, upload, readable: (pflags & PFLAG.READ) !== 0, ...newTracked() };
  }
  // the table may have filled while the open was in progress
  if (s.handles.full) {
    await closeEntry(entry, new FsError('Aborted', 'too many open handles'));
    return tooManyHandles(id);
  }
  return handlePacket(id, s.handles.add(entry));
};

const close: RequestHandler = async (s, id, r) => {
  const entry = s.handles.take(r.bytes());
  if (!entry) return invalidHandle(id);
  // an upload's close commits it (atomic rename, quota, hooks): report its error
  await closeEntry(entry);
  return ok(id);
};

const read: RequestHandler = async (s, id, r) => {
  const handle = r.bytes();
  const offset = r.u64();
  const len = Math.min(r.u32(), s.maxReadLength);
  const e = fileEntry(s, handle);
  if (!e) return invalidHandle(id);
  const src = readerOf(e);
  if (!src) return statusPacket(id, SFTP_STATUS.FAILURE, 'file not open for reading');
  s.stats.readRequests++;
  if (len > s.stats.maxReadLength) s.stats.maxReadLength = len;
  const release = useEntry(e);
  const untrack = s.trackRead(len);
  try {
    // backends with readvAt (local files, object-store windows): straight into the SSH packets that carry the reply (direct-data.ts)
    const dl = 'readvAt' in src ? src : undefined;
    const readv = dl?.readvAt;
    const packets = readv && len > 0 && offset < dl.size ? DataPackets.prepare(s.channel, id, Math.min(len, dl.size - offset)) : undefined;
    if (readv && packets) {
      // a failed read keeps the packets' memory out of the pool (DataPackets.release)
      const n = await readv(packets.regions, offset);
      if (n > 0) return packets.reply(n);
      packets.release();
      return statusPacket(id, SFTP_STATUS.EOF, 'End of file');
    }
    // a backend that reads into packets, not laid out in them (a non-AEAD cipher, compression): the
    // replies go at the client's pace from here on, as the packets would (measured: channel-pacing.ts)
    if (dl && len > 0 && offset < dl.size) pacePlainWrites(s.channel);
    // header and payload in one buffer: the backend reads straight into it
    const buf = Buffer.allocUnsafe(DATA_HEADER_LEN + len);
    const n = len === 0 ? 0 : await src.readAt(buf, DATA_HEADER_LEN, len, offset);
    if (n <= 0) return statusPacket(id, SFTP_STATUS.EOF, 'End of file');
    buf.writeUInt32BE(DATA_HEADER_LEN - 4 + n, 0);
    buf[4] = PKT.DATA;
    buf.writeUInt32BE(id, 5);
    buf.writeUInt32BE(n, 9);
    return buf.subarray(0, DATA_HEADER_LEN + n);
  } finally {
    untrack();
    release();
  }
};

const noop = (): void => undefined;

const write: RequestHandler = async (s, id, r) => {
  const handle = r.bytes();
  const offset = r.u64();
  const data = r.bytes();
  const e = fileEntry(s, handle);
  if (!e) return invalidHandle(id);
  if (!e.upload) return statusPacket(id, SFTP_STATUS.FAILURE, 'file not open for writing');
  s.stats.writeRequests++;
  s.stats.writeBytes += data.length;
  if (data.length > s.stats.maxWriteLength) s.stats.maxWriteLength = data.length;
  const release = useEntry(e);
  const untrack = s.trackWrite(data.length);
  // the framer reuses the packet's memory once the write no longer reads it (framer.ts)
  const releasePacket = s.packetReleaser();
  const upload = e.upload;
  // Writes of a handle reach the upload in the order they were sent: each waits for the turn of
  // the one sent before it, which passes when that write was taken inline or, sent to the pool,
  // has settled. An explicit queue, because a wake-up by promise settles in microtask order: a
  // request completing meanwhile may dispatch a later WRITE that would overtake a waiting one
  // (an object store refuses data out of order beyond what it buffers).
  const previous = e.writeTurn;
  let passTurn!: () => void;
  const turn = new Promise<void>((resolve) => { passTurn = resolve; });
  e.writeTurn = turn;
  const endTurn = (): void => {
    passTurn();
    if (e.writeTurn === turn) e.writeTurn = undefined;
  };
  let pooled = false;
  try {
    // Inline when cheap (Upload.writeNow, vfs/inline-writes.ts): OpenSSH's sftp keeps up
    // to 64 WRITEs of 255 KiB in flight, and through the thread pool they contend for
    // the file (A/B, 512 MiB aes128-gcm upload: 301 -> 528 MB/s, server CPU 1.99 -> 0.84 s).
    // Behind a pooled write the next ones wait for it, then try inline again (skipping
    // inline while any pooled write was pending kept a busy upload in the pool for good:
    // 1 GiB at 299 MB/s with 4.3 s of CPU).
    // bounded: the previous turn passes once its own write is taken or settled
    if (previous) await previous;
    if (upload.writeNow(data, offset)) {
      releasePacket();
      return ok(id);
    }
    const write = upload.writeAt(data, offset);
    pooled = true;
    // settled (either way): every writeAt has copied or written `data` by then
    void write.then(noop, noop).then(() => {
      releasePacket();
      endTurn();
    });
    await write;
    return ok(id);
  } finally {
    if (!pooled) endTurn();
    untrack();
    release();
  }
};

const fstat: RequestHandler = async (s, id, r) => {
  const e = s.handles.get(r.bytes());
  if (!e) return invalidHandle(id);
  const release = useEntry(e);
  try {
    const info = e.kind === 'file' && e.upload ? await e.upload.stat() : await s.ops.stat(e.vpath);
    return attrsPacket(id, info);
  } finally {
    release();
  }
};

const fsetstat: RequestHandler = async (s, id, r) => {
  const handle = r.bytes();
  const attrs = toSetStat(readAttrs(r));
  const e = s.handles.get(handle);
  if (!e) return invalidHandle(id);
  const release = useEntry(e);
  try {
    // truncating an open upload acts on the file being written (maybe a temp file)
    if (e.kind === 'file' && e.upload && attrs.size !== undefined) {
      await e.upload.truncate(attrs.size);
      delete attrs.size;
    }
    if (Object.keys(attrs).length > 0) await s.ops.setStat(e.vpath, attrs);
    return ok(id);
  } finally {
    release();
  }
};

async function dotEntries(s: SftpSession, vpath: string): Promise<FileInfo[]> {
  const self = await s.ops.stat(vpath);
  const out: FileInfo[] = [{ ...self, name: '.' }];
  if (vpath !== '/') {
    try {
      out.push({ ...(await s.ops.stat(vdir(vpath))), name: '..' });
    } catch {
      // a parent we may not stat is simply not listed
    }
  }
  return out;
}

const opendir: RequestHandler = async (s, id, r) => {
  const vpath = s.resolve(r.string());
  if (s.handles.full) return tooManyHandles(id);
  const iter = s.ops.readDir(vpath)[Symbol.asyncIterator]();
  // read the first batch now so a missing or forbidden directory fails OPENDIR
  let first: IteratorResult<FileInfo[]>;
  try {
    first = await iter.next();
  } catch (e) {
    await iter.return?.().catch(() => undefined);
    throw e;
  }
  let dots: FileInfo[] = [];
  try {
    dots = await dotEntries(s, vpath);
  } catch {
    // listing works without "." and ".."
  }
  const entry: DirEntry = {
    kind: 'dir', vpath, iter, dots, ...newTracked(),
    queue: first.done ? [] : [...first.value], done: first.done === true,
  };
  if (s.handles.full) {
    await closeEntry(entry);
    return tooManyHandles(id);
  }
  return handlePacket(id, s.handles.add(entry));
};

const readdir: RequestHandler = async (s, id, r) => {
  const e = s.handles.get(r.bytes());
  if (!e || e.kind !== 'dir') return invalidHandle(id);
  // READDIRs on one handle are served one at a time: the iterator is sequential
  for (let i = 0; i < 1_000_000 && e.busy > 0; i++) await whenIdle(e);
  const release = useEntry(e);
  try {
    const batch: FileInfo[] = e.dots.splice(0, e.dots.length);
    // bounded: each backend batch either fills the reply or ends the listing
    while (batch.length < READDIR_BATCH) {
      if (e.queue.length === 0) {
        if (e.done) break;
        const next = await e.iter.next();
        if (next.done) {
          e.done = true;
          break;
        }
        e.queue = [...next.value];
        continue;
      }
      batch.push(...e.queue.splice(0, READDIR_BATCH - batch.length));
    }
    if (batch.length === 0) return statusPacket(id, SFTP_STATUS.EOF, 'End of file');
    const now = Date.now();
    const names: NameEntry[] = batch.map((info) => ({
      filename: info.name,
      longname: formatLongname(info, info.name, s.userName(info.uid), s.groupName(info.gid), now),
      attrs: info,
    }));
    return namePacket(id, names);
  } finally {
    release();
  }
};

export const FILE_HANDLERS: Record<number, RequestHandler> = {
  [PKT.OPEN]: open,
  [PKT.CLOSE]: close,
  [PKT.READ]: read,
  [PKT.WRITE]: write,
  [PKT.FSTAT]: fstat,
  [PKT.FSETSTAT]: fsetstat,
  [PKT.OPENDIR]: opendir,
  [PKT.READDIR]: readdir,
};

