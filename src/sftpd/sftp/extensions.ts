/**
 * SSH_FXP_EXTENDED requests: the OpenSSH extensions (PROTOCOL file),
 * copy-data and home-directory (draft-ietf-secsh-filexfer-extensions-00) and
 * check-file-handle/check-file-name (draft-ietf-secsh-filexfer-09 §9.1.2).
 * Unknown names are answered OP_UNSUPPORTED.
 */
import { FsError } from '../../common/errors';
import type { StatVFS } from '../../vfs/fs';
import { SFTP_STATUS } from '../status';
import { CHECK_FILE_ALGOS, PKT, type CheckFileAlgo } from './constants';
import { fileEntry, readerOf } from './handlers-file';
import { singleName } from './handlers-path';
import { useEntry } from './handles';
import { BadMessageError, PacketWriter, statusPacket, type PacketReader } from './packet';
import type { SftpSession } from './session';

type ExtHandler = (s: SftpSession, id: number, r: PacketReader) => Promise<Buffer>;

const ok = (id: number): Buffer => statusPacket(id, SFTP_STATUS.OK, 'Success');
const invalidHandle = (id: number): Buffer => statusPacket(id, SFTP_STATUS.FAILURE, 'invalid handle');
/** copy-data moves at most this much per backend call */
const COPY_CHUNK = 256 * 1024;
/** check-file with a block size: at most this many hashes in one reply */
const MAX_CHECK_BLOCKS = 4096;

function statvfsReply(id: number, v: StatVFS): Buffer {
  const w = new PacketWriter(PKT.EXTENDED_REPLY, id, 100);
  for (const n of [v.bsize, v.frsize, v.blocks, v.bfree, v.bavail, v.files, v.ffree, v.favail, v.fsid, v.flag, v.namemax]) {
    w.u64(n);
  }
  return w.finish();
}

const rename: ExtHandler = async (s, id, r) => {
  const from = s.resolve(r.string());
  const to = s.resolve(r.string());
  // SFTPGo routes posix-rename to its normal rename, which may overwrite
  await s.ops.rename(from, to);
  return ok(id);
};

const statvfs: ExtHandler = async (s, id, r) => statvfsReply(id, await s.ops.statvfs(s.resolve(r.string())));

const fstatvfs: ExtHandler = async (s, id, r) => {
  const e = s.handles.get(r.bytes());
  if (!e) return invalidHandle(id);
  return statvfsReply(id, await s.ops.statvfs(e.vpath));
};

const hardlink: ExtHandler = async (s, id, r) => {
  const existing = s.resolve(r.string());
  const newPath = s.resolve(r.string());
  await s.ops.link(existing, newPath);
  return ok(id);
};

const fsync: ExtHandler = async (s, id, r) => {
  const e = fileEntry(s, r.bytes());
  if (!e) return invalidHandle(id);
  // a read-only handle has nothing to flush
  if (!e.upload) return ok(id);
  const release = useEntry(e);
  try {
    await e.upload.sync();
    return ok(id);
  } finally {
    release();
  }
};

const limits: ExtHandler = async (s, id) =>
  new PacketWriter(PKT.EXTENDED_REPLY, id, 48)
    .u64(s.maxPacketLength)
    .u64(s.maxReadLength)
    .u64(s.maxWriteLength)
    .u64(s.handles.max)
    .finish();

/** "~" and "~/x" expand to the start directory; "~user" only for the session's user. */
function expandTilde(s: SftpSession, p: string): string | undefined {
  if (!p.startsWith('~')) return s.resolve(p);
  const slash = p.indexOf('/');
  const who = slash < 0 ? p.slice(1) : p.slice(1, slash);
  if (who !== '' && who !== s.ops.user.username) return undefined;
  const rest = slash < 0 ? '' : p.slice(slash + 1);
  return s.ops.cleanPath(rest === '' ? '.' : rest, s.home);
}

const expandPath: ExtHandler = async (s, id, r) => {
  const out = expandTilde(s, r.string());
  if (out === undefined) return statusPacket(id, SFTP_STATUS.NO_SUCH_FILE, 'no such user');
  return singleName(id, out);
};

const homeDirectory: ExtHandler = async (s, id, r) => {
  const user = r.string();
  if (user !== '' && user !== s.ops.user.username) return statusPacket(id, SFTP_STATUS.NO_SUCH_FILE, 'no such user');
  return singleName(id, s.home);
};

const copyData: ExtHandler = async (s, id, r) => {
  const rh = r.bytes();
  const readOffset = r.u64();
  const readLength = r.u64();
  const wh = r.bytes();
  const writeOffset = r.u64();
  const src = fileEntry(s, rh);
  const dst = fileEntry(s, wh);
  if (!src || !dst) return invalidHandle(id);
  const reader = readerOf(src);
  if (!reader) return statusPacket(id, SFTP_STATUS.FAILURE, 'source not open for reading');
  if (!dst.upload) return statusPacket(id, SFTP_STATUS.FAILURE, 'destination not open for writing');
  const toEnd = readLength === 0;
  if (src === dst) {
    const srcEnd = toEnd ? Infinity : readOffset + readLength;
    const dstEnd = toEnd ? Infinity : writeOffset + readLength;
    if (readOffset < dstEnd && writeOffset < srcEnd) {
      return statusPacket(id, SFTP_STATUS.FAILURE, 'overlapping copy ranges');
    }
  }
  const releaseSrc = useEntry(src);
  const releaseDst = src === dst ? () => undefined : useEntry(dst);
  try {
    let copied = 0;
    // bounded: every pass moves at least one byte or stops
    for (;;) {
      const want = toEnd ? COPY_CHUNK : Math.min(COPY_CHUNK, readLength - copied);
      if (want <= 0) break;
      const buf = Buffer.allocUnsafe(want);
      const n = await reader.readAt(buf, 0, want, readOffset + copied);
      if (n <= 0) break;
      await dst.upload.writeAt(n === want ? buf : buf.subarray(0, n), writeOffset + copied);
      copied += n;
      s.ops.touch();
    }
    return ok(id);
  } finally {
    releaseDst();
    releaseSrc();
  }
};

const usersGroupsById: ExtHandler = async (s, id, r) => {
  const uids = r.bytes();
  const gids = r.bytes();
  if (uids.length % 4 !== 0 || gids.length % 4 !== 0) throw new BadMessageError('bad id list');
  const names = (ids: Buffer, f: (n: number) => string): Buffer => {
    const w = new PacketWriter(0, undefined, 16 + ids.length * 4);
    for (let p = 0; p < ids.length; p += 4) w.string(f(ids.readUInt32BE(p)));
    // drop the writer's length prefix and type byte: only the packed strings remain
    return w.finish().subarray(5);
  };
  return new PacketWriter(PKT.EXTENDED_REPLY, id, 64)
    .string(names(uids, (u) => s.userName(u)))
    .string(names(gids, (g) => s.groupName(g)))
    .finish();
};

function pickAlgo(list: string): CheckFileAlgo | undefined {
  for (const a of list.split(',')) {
    const name = a.trim().toLowerCase();
    if ((CHECK_FILE_ALGOS as readonly string[]).includes(name)) return name as CheckFileAlgo;
  }
  return undefined;
}

function checkFile(byHandle: boolean): ExtHandler {
  return async (s, id, r) => {
    let vpath: string;
    if (byHandle) {
      const e = fileEntry(s, r.bytes());
      if (!e) return invalidHandle(id);
      if (!e.readable) return statusPacket(id, SFTP_STATUS.PERMISSION_DENIED, 'handle not open for reading');
      vpath = e.vpath;
    } else {
      vpath = s.resolve(r.string());
    }
    const algo = pickAlgo(r.string());
    const start = r.u64();
    const length = r.u64();
    const blockSize = r.u32();
    if (!algo) return statusPacket(id, SFTP_STATUS.OP_UNSUPPORTED, 'no supported hash algorithm');
    if (blockSize !== 0 && blockSize < 256) {
      return statusPacket(id, SFTP_STATUS.FAILURE, 'block size must be at least 256');
    }
    const parts: Buffer[] = [];
    if (blockSize === 0) {
      parts.push(await s.ops.checksum(vpath, algo, start, length));
    } else {
      const size = (await s.ops.stat(vpath)).size;
      const end = length === 0 ? size : Math.min(size, start + length);
      const blocks = end > start ? Math.ceil((end - start) / blockSize) : 0;
      if (blocks > MAX_CHECK_BLOCKS) throw new FsError('Unsupported', 'too many blocks');
      for (let i = 0; i < blocks; i++) {
        const off = start + i * blockSize;
        parts.push(await s.ops.checksum(vpath, algo, off, Math.min(blockSize, end - off)));
        s.ops.touch();
      }
    }
    const w = new PacketWriter(PKT.EXTENDED_REPLY, id, 64 + parts.length * 64).string('check-file').string(algo);
    for (const p of parts) w.raw(p);
    return w.finish();
  };
}

const EXTENSIONS: Record<string, ExtHandler> = {
  'posix-rename@openssh.com': rename,
  'statvfs@openssh.com': statvfs,
  'fstatvfs@openssh.com': fstatvfs,
  'hardlink@openssh.com': hardlink,
  'fsync@openssh.com': fsync,
  'limits@openssh.com': limits,
  'expand-path@openssh.com': expandPath,
  'copy-data': copyData,
  'home-directory': homeDirectory,
  'users-groups-by-id@openssh.com': usersGroupsById,
  'check-file-handle': checkFile(true),
  'check-file-name': checkFile(false),
};

export async function handleExtended(s: SftpSession, id: number, r: PacketReader): Promise<Buffer> {
  const name = r.string();
  const h = Object.hasOwn(EXTENSIONS, name) ? EXTENSIONS[name] : undefined;
  if (!h) return statusPacket(id, SFTP_STATUS.OP_UNSUPPORTED, `unsupported extended request: ${name.slice(0, 64)}`);
  return h(s, id, r);
}
