/**
 * RETR, STOR, APPE and REST. The file side is a Download/Upload from FileOps
 * (permissions, quota, atomic uploads, logs and counters are common's); the
 * adapter only pipes it to the data socket with backpressure and replies.
 */
import type { Download, Upload } from '../../common/types';
import type { FtpSession } from '../session';
import { errorReply } from '../replies';
import { asAbort, failureReply, lingerClose, refuseClearData, runTransfer } from './dataconn';
import type { CommandTable } from './types';
import { downloadPump, uploadSink } from '../../common/pump';
import { receiveLentUpload, receiveUpload } from '../datapath';

async function retr(s: FtpSession, arg: string): Promise<void> {
  const p = s.resolve(arg);
  const offset = s.restOffset;
  if (await refuseClearData(s)) return;
  let dl: Download;
  try {
    dl = await s.fs().openRead(p, offset);
  } catch (e) {
    const r = errorReply(e, 'Could not open file');
    return s.reply(r.code, r.message);
  }
  await runTransfer(s, `${p} (${dl.size} bytes)`, async (sock) => {
    // recycled buffers with read-ahead (see common/pump.ts)
    await downloadPump(dl, sock, offset);
    await lingerClose(sock);
  }, async (o) => {
    if (o.ok) {
      try {
        await dl.close();
      } catch (e) {
        const r = errorReply(e, 'Transfer failed');
        return s.reply(r.code, r.message);
      }
      return s.reply(226, 'Transfer complete');
    }
    await dl.close(asAbort(o)).catch((e: unknown) => s.debug(`close download: ${String(e)}`));
    return failureReply(s, o, 'Transfer failed');
  });
}

async function store(s: FtpSession, arg: string, append: boolean): Promise<void> {
  const p = s.resolve(arg);
  const offset = append ? 0 : s.restOffset;
  if (await refuseClearData(s)) return;
  let ul: Upload;
  try {
    ul = await s.fs().openWrite(p, { truncate: !append && offset === 0, append, exclusive: false, read: false, offset });
  } catch (e) {
    const r = errorReply(e, 'Could not open file for writing');
    return s.reply(r.code, r.message);
  }
  await runTransfer(s, p, async (sock) => {
    // STOR writes at the REST offset: on a plain connection straight from one
    // reused read buffer (util/user-buffer-socket.ts has the measurement), else
    // through the coalescing sink; APPE keeps the generic stream, which knows the end of file
    const lent = append ? undefined : s.data.lendReads(sock);
    if (lent) await receiveLentUpload(lent, ul, offset);
    else await receiveUpload(sock, append ? ul.createWriteStream() : uploadSink(ul, offset));
  }, async (o) => {
    if (o.ok) {
      try {
        // close() commits: atomic rename, quota update, upload hook
        await ul.close();
      } catch (e) {
        const r = errorReply(e, 'Upload failed');
        return s.reply(r.code, r.message);
      }
      return s.reply(226, 'Transfer complete');
    }
    // close(err) rolls back: an atomic upload leaves no partial file
    await ul.close(asAbort(o)).catch((e: unknown) => s.debug(`close upload: ${String(e)}`));
    return failureReply(s, o, 'Upload failed');
  });
}

function rest(s: FtpSession, arg: string): Promise<void> {
  const v = arg.trim();
  if (!/^\d{1,15}$/.test(v)) return s.reply(501, 'REST needs a non-negative byte offset');
  s.restOffset = Number(v);
  return s.reply(350, `Restarting at ${s.restOffset}. Send STOR or RETR`);
}

export const TRANSFER_COMMANDS: CommandTable = {
  RETR: { auth: true, run: retr },
  STOR: { auth: true, run: (s, arg) => store(s, arg, false) },
  APPE: { auth: true, run: (s, arg) => store(s, arg, true) },
  REST: { auth: true, run: rest },
};
