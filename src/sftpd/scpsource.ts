/** SCP source (`scp -f`): the client downloads files and directories. */
import { posix } from 'node:path';
import type { Download } from '../common/types';
import type { FileInfo } from '../vfs/fs';
import type { ScpArgs, ScpIo } from './scp';
import { modeString } from './scp';

const ZEROS = Buffer.alloc(64 * 1024);

function msgOf(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

function recordName(vpath: string): string {
  const b = posix.basename(vpath);
  return b === '' ? '/' : b;
}

async function sendTimes(io: ScpIo, info: FileInfo): Promise<boolean> {
  const m = Math.floor(info.mtime.getTime() / 1000);
  const a = Math.floor(info.atime.getTime() / 1000);
  await io.send(`T${m} 0 ${a} 0\n`);
  return io.readAck();
}

async function sendFile(io: ScpIo, vpath: string, info: FileInfo, preserve: boolean): Promise<void> {
  let dl: Download;
  try {
    dl = await io.ops.openRead(vpath);
  } catch (e) {
    await io.warn(`${vpath}: ${msgOf(e)}`);
    return;
  }
  let failure: Error | undefined;
  try {
    if (preserve && !(await sendTimes(io, info))) { await dl.close(); return; }
    const size = dl.size;
    await io.send(`C${modeString(info.mode, false)} ${size} ${recordName(vpath)}\n`);
    if (!(await io.readAck())) { await dl.close(); return; }
    let sent = 0;
    if (size > 0) {
      const rs = dl.createReadStream(0, size - 1);
      try {
        for await (const chunk of rs as AsyncIterable<Buffer>) {
          const room = size - sent;
          const part = chunk.length > room ? chunk.subarray(0, room) : chunk;
          await io.send(part);
          sent += part.length;
          if (sent >= size) break;
        }
      } catch (e) {
        failure = e instanceof Error ? e : new Error(String(e));
      } finally {
        rs.destroy();
      }
    }
    // the size was announced: pad a short read with zeros, then report it (as OpenSSH does)
    while (sent < size) {
      const n = Math.min(size - sent, ZEROS.length);
      await io.send(ZEROS.subarray(0, n));
      sent += n;
    }
    if (failure) await io.warn(`${vpath}: ${failure.message}`);
    else await io.ok();
    await io.readAck();
  } catch (e) {
    failure ??= e instanceof Error ? e : new Error(String(e));
    await dl.close(failure).catch(() => undefined);
    throw e;
  }
  await dl.close(failure);
}

async function sendDir(io: ScpIo, vpath: string, info: FileInfo, preserve: boolean, depth: number): Promise<void> {
  if (depth > 512) { await io.warn(`${vpath}: directory tree too deep`); return; }
  if (preserve && !(await sendTimes(io, info))) return;
  await io.send(`D${modeString(info.mode, true)} 0 ${recordName(vpath)}\n`);
  if (!(await io.readAck())) return;
  let entries: FileInfo[] = [];
  try {
    for await (const batch of io.ops.readDir(vpath)) {
      for (const fi of batch) if (fi.name !== '.' && fi.name !== '..') entries.push(fi);
      io.ops.touch();
    }
  } catch (e) {
    await io.warn(`${vpath}: ${msgOf(e)}`);
    entries = [];
  }
  for (const fi of entries) {
    const p = posix.join(vpath, fi.name);
    if (fi.isDirectory) await sendDir(io, p, fi, preserve, depth + 1);
    else if (fi.isFile) await sendFile(io, p, fi, preserve);
    // anything else (sockets, dangling links) is skipped as OpenSSH does
  }
  await io.send('E\n');
  await io.readAck();
}

export async function runSource(io: ScpIo, args: ScpArgs): Promise<void> {
  // the sink speaks first: one 0x00 meaning "ready"
  const first = await io.reader.byte();
  if (first !== 0) throw new Error('the client is not ready to receive');
  for (const raw of args.paths) {
    const vpath = io.ops.cleanPath(raw);
    let info: FileInfo;
    try {
      info = await io.ops.stat(vpath);
    } catch (e) {
      await io.warn(`${vpath}: ${msgOf(e)}`);
      continue;
    }
    if (info.isDirectory) {
      if (!args.recursive) { await io.warn(`${vpath}: not a regular file`); continue; }
      await sendDir(io, vpath, info, args.preserveTimes, 0);
    } else {
      await sendFile(io, vpath, info, args.preserveTimes);
    }
  }
}
