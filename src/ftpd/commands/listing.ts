/**
 * LIST, NLST, MLSD (data channel) and MLST, STAT (control channel).
 * Directory entries come from FileOps.readDir in batches and are written with
 * backpressure; the first batch is read before the data connection is used,
 * so a denied or missing directory gets a plain 550 instead of 150 + 426.
 */
import { once } from 'node:events';
import * as path from 'node:path';
import type * as net from 'node:net';
import type { FileInfo } from '../../vfs/fs';
import { fsErr } from '../../common/errors';
import type { FtpSession } from '../session';
import { errorReply } from '../replies';
import { lsLine, mlsxLine } from '../format';
import { asAbort, failureReply, lingerClose, refuseClearData, runTransfer } from './dataconn';
import type { CommandTable } from './types';

type Style = 'list' | 'nlst' | 'mlsd';

/** Drops `ls`-style flags ("-la", "-a") clients put before the path. */
function listTarget(arg: string): string {
  let rest = arg.trim();
  while (/^-[a-zA-Z]+(\s|$)/.test(rest)) rest = rest.replace(/^-[a-zA-Z]+\s*/, '');
  return rest;
}

const line = (style: Style, fi: FileInfo, now: number): string =>
  style === 'list' ? lsLine(fi, now) : style === 'nlst' ? fi.name : mlsxLine(fi, fi.name);

/** A lazily started listing: either one file, or the batches of a directory. */
interface Source { dir?: FileInfo; first: FileInfo[]; rest?: AsyncIterator<FileInfo[]> }

async function openSource(s: FtpSession, p: string, style: Style): Promise<Source> {
  const fi = await s.fs().stat(p);
  if (!fi.isDirectory) {
    if (style === 'mlsd') throw fsErr('NotDirectory');
    return { first: [{ ...fi, name: style === 'nlst' ? p : path.posix.basename(p) }] };
  }
  const it = s.fs().readDir(p)[Symbol.asyncIterator]();
  const r = await it.next();
  return { dir: fi, first: r.done ? [] : r.value, rest: r.done ? undefined : it };
}

async function writeAll(sock: net.Socket, text: string): Promise<void> {
  if (!sock.write(text)) await once(sock, 'drain');
}

async function list(s: FtpSession, arg: string, style: Style): Promise<void> {
  const p = s.resolve(listTarget(arg));
  if (await refuseClearData(s)) return;
  let src: Source;
  try {
    src = await openSource(s, p, style);
  } catch (e) {
    const r = errorReply(e, 'Could not list directory');
    return s.reply(r.code, r.message);
  }
  const now = Date.now();
  await runTransfer(s, `listing of ${p}`, async (sock) => {
    if (style === 'mlsd' && src.dir) await writeAll(sock, `${mlsxLine(src.dir, '.', 'cdir')}\r\n`);
    let batch: FileInfo[] | undefined = src.first;
    while (batch) {
      if (batch.length) await writeAll(sock, batch.map((fi) => `${line(style, fi, now)}\r\n`).join(''));
      const r: IteratorResult<FileInfo[]> | undefined = await src.rest?.next();
      batch = r && !r.done ? r.value : undefined;
    }
    sock.end();
    await lingerClose(sock);
  }, async (o) => {
    if (o.ok) return s.reply(226, 'Closing data connection, listing complete');
    await src.rest?.return?.().catch(() => undefined);
    s.debug(`listing failed: ${asAbort(o).message}`);
    return failureReply(s, o, 'Could not list directory');
  });
}

async function mlst(s: FtpSession, arg: string): Promise<void> {
  const p = s.resolve(arg);
  try {
    const fi = await s.fs().stat(p);
    return await s.reply(250, [`Listing ${p}`, mlsxLine(fi, p), 'End']);
  } catch (e) {
    const r = errorReply(e, 'Could not stat');
    return s.reply(r.code, r.message);
  }
}

async function stat(s: FtpSession, arg: string): Promise<void> {
  if (arg.trim() === '') {
    const st = s.transfer ? 'A transfer is in progress' : 'No transfer in progress';
    return s.reply(211, [
      'FTP server status:',
      `Connected to ${s.remoteIp}`,
      `Logged in as ${s.ops?.user.username ?? '(not logged in)'}`,
      `TLS for control connection: ${s.secure ? 'yes' : 'no'}, for data: ${s.protP ? 'yes' : 'no'}`,
      st,
      'End of status',
    ]);
  }
  if (!s.ops) return s.reply(530, 'Please login with USER and PASS');
  // STAT <path>: a LIST over the control connection, first batch only (bounded reply)
  const p = s.resolve(listTarget(arg));
  try {
    const src = await openSource(s, p, 'list');
    await src.rest?.return?.();
    const now = Date.now();
    return await s.reply(213, [`Status of ${p}:`, ...src.first.map((fi) => lsLine(fi, now)), 'End of status']);
  } catch (e) {
    const r = errorReply(e, 'Could not stat');
    return s.reply(r.code, r.message);
  }
}

export const LIST_COMMANDS: CommandTable = {
  LIST: { auth: true, run: (s, arg) => list(s, arg, 'list') },
  NLST: { auth: true, run: (s, arg) => list(s, arg, 'nlst') },
  MLSD: { auth: true, run: (s, arg) => list(s, arg, 'mlsd') },
  MLST: { auth: true, run: mlst },
  STAT: { auth: false, run: stat },
};
