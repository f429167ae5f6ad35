/** SCP sink (`scp -t`): the client uploads files and directories. */
import { posix } from 'node:path';
import type { Upload } from '../common/types';
import { isFsError } from '../common/errors';
import type { ScpArgs, ScpIo } from './scp';
import { validRecordName } from './scp';
import { endAndWait, writeAll } from './streamreader';

const MAX_LINE = 8192;
const CHUNK = 256 * 1024;

interface Frame { path: string; isDir: boolean }
interface Times { mtime: number; atime: number }

function msgOf(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

async function isDirectory(io: ScpIo, vpath: string): Promise<boolean | undefined> {
  try {
    return (await io.ops.stat(vpath)).isDirectory;
  } catch (e) {
    if (isFsError(e, 'NotFound')) return undefined;
    throw e;
  }
}

function child(frame: Frame, name: string): string {
  // a non-directory target is the destination itself (`scp file host:/new-name`)
  return frame.isDir ? posix.join(frame.path, name) : frame.path;
}

async function applyTimes(io: ScpIo, vpath: string, times: Times | undefined): Promise<void> {
  if (!times) return;
  try {
    await io.ops.setStat(vpath, { mtime: new Date(times.mtime * 1000), atime: new Date(times.atime * 1000) });
  } catch (e) {
    // like SFTPGo, times the user may not set do not fail the transfer
    io.logger.debug('scp', `unable to set times on ${vpath}: ${msgOf(e)}`, { connection_id: io.ops.id });
  }
}

async function receiveFile(io: ScpIo, dest: string, size: number, mode: number, times: Times | undefined): Promise<void> {
  let upload: Upload;
  try {
    upload = await io.ops.openWrite(dest, { truncate: true, append: false, exclusive: false, read: false, offset: 0, mode });
  } catch (e) {
    // refused before any data: the client skips this file and sends the next record
    await io.warn(`${dest}: ${msgOf(e)}`);
    return;
  }
  let failure: Error | undefined;
  const ws = upload.createWriteStream();
  ws.on('error', (e: Error) => { failure ??= e; });
  await io.ok();
  let remaining = size;
  while (remaining > 0) {
    const c = await io.reader.chunk(Math.min(remaining, CHUNK));
    if (c === null) {
      const err = new Error('connection closed during an upload');
      ws.destroy(err);
      await upload.close(err).catch(() => undefined);
      throw err;
    }
    remaining -= c.length;
    // after a failure keep reading: the client sends the whole file regardless
    if (!failure) await writeAll(ws, c).catch((e: Error) => { failure ??= e; });
  }
  const status = await io.reader.byte();
  if (status === null) failure ??= new Error('connection closed during an upload');
  else if (status !== 0) failure ??= new Error('the client reported an error while sending');
  if (!failure) await endAndWait(ws).catch((e: Error) => { failure ??= e; });
  else ws.destroy();
  try {
    await upload.close(failure);
  } catch (e) {
    failure ??= e instanceof Error ? e : new Error(String(e));
  }
  if (status === null) throw failure ?? new Error('connection closed');
  if (failure) {
    await io.warn(`${dest}: ${failure.message}`);
    return;
  }
  await applyTimes(io, dest, times);
  await io.ok();
}

const RE_T = /^T(\d{1,12}) (\d{1,9}) (\d{1,12}) (\d{1,9})$/;
const RE_CD = /^([CD])([0-7]{4}) (\d{1,19}) (.+)$/;

export async function runSink(io: ScpIo, args: ScpArgs): Promise<void> {
  const root = io.ops.cleanPath(args.paths[0]!);
  const rootIsDir = (await isDirectory(io, root)) === true;
  if (args.targetIsDir && !rootIsDir) {
    await io.warn(`${root}: not a directory`);
    return;
  }
  const stack: Frame[] = [{ path: root, isDir: rootIsDir }];
  const dirTimes: (Times | undefined)[] = [];
  let times: Times | undefined;
  await io.ok();
  for (;;) {
    const line = await io.reader.line(MAX_LINE);
    if (line === null) return;
    const kind = line[0];
    if (kind === 'T') {
      const m = RE_T.exec(line);
      if (!m) throw new Error(`invalid time record: ${JSON.stringify(line.slice(0, 64))}`);
      times = { mtime: Number(m[1]), atime: Number(m[3]) };
      await io.ok();
      continue;
    }
    if (kind === 'E') {
      if (stack.length <= 1) throw new Error('unbalanced directory end record');
      const done = stack.pop()!;
      await applyTimes(io, done.path, dirTimes.pop());
      await io.ok();
      continue;
    }
    if (kind === '\x01' || kind === '\x02') {
      // the client reports its own error; a fatal one ends the session
      io.errors++;
      if (kind === '\x02') return;
      continue;
    }
    const m = RE_CD.exec(line);
    if (!m) throw new Error(`invalid scp record: ${JSON.stringify(line.slice(0, 64))}`);
    const [, type, modeStr, sizeStr, name] = m as unknown as [string, string, string, string, string];
    if (!validRecordName(name)) throw new Error(`invalid file name in scp record: ${JSON.stringify(name)}`);
    const size = Number(sizeStr);
    if (!Number.isSafeInteger(size)) throw new Error('invalid size in scp record');
    const frame = stack[stack.length - 1]!;
    const dest = child(frame, name);
    const t = times;
    times = undefined;
    if (type === 'C') {
      await receiveFile(io, dest, size, parseInt(modeStr, 8), t);
      continue;
    }
    if (!args.recursive) throw new Error('received a directory without -r');
    const exists = await isDirectory(io, dest);
    // the client sends the directory's content right after: fail hard rather than misplace it
    if (exists === false) throw new Error(`${dest}: not a directory`);
    if (exists === undefined) {
      try {
        await io.ops.mkdir(dest);
      } catch (e) {
        throw new Error(`${dest}: ${msgOf(e)}`);
      }
    }
    stack.push({ path: dest, isDir: true });
    dirTimes.push(t);
    await io.ok();
  }
}
