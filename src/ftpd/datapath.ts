/**
 * STOR and RETR use uploadSink() and downloadPump() from src/common/pump.ts
 * (shared with WebDAV PUT and GET); this file only couples them to the data
 * socket.
 */
import type * as net from 'node:net';
import type { Writable } from 'node:stream';
import { lentChunkUpload } from '../common/pump';
import type { Upload } from '../common/types';
import type { UserBufferSocket } from '../util/user-buffer-socket';

function closedError(): Error {
  return Object.assign(new Error('data connection closed'), { code: 'ECONNRESET' });
}

const DISCARD_MS = 2000;

/**
 * Pipes the data socket into the upload sink. When the sink fails (quota,
 * disk) the rest of the client's data is read and dropped until it ends, for
 * at most DISCARD_MS: closing a socket with unread input sends a RST, and
 * the client would then report "connection reset" instead of our 552 reply.
 */
export function receiveUpload(sock: net.Socket, sink: Writable): Promise<void> {
  return new Promise((resolve, reject) => {
    let failed = false;
    const fail = (e: Error): void => {
      if (failed) return;
      failed = true;
      sock.unpipe(sink);
      sink.destroy();
      discardThenReject(sock, e, reject);
    };
    sink.once('error', fail);
    sink.once('finish', () => { if (!failed) resolve(); });
    sock.once('error', fail);
    // a close before 'end' is a broken transfer, not a complete file
    sock.once('close', () => { if (!sock.readableEnded) fail(closedError()); });
    sock.pipe(sink);
  });
}

/** Reads and drops the rest of the client's data (at most DISCARD_MS), then rejects with `e`. */
function discardThenReject(sock: net.Socket, e: Error, reject: (e: Error) => void, resumeLent?: () => void): void {
  if (sock.destroyed || sock.readableEnded) { reject(e); return; }
  const t = setTimeout(() => sock.destroy(), DISCARD_MS);
  const stop = (): void => { clearTimeout(t); reject(e); };
  sock.once('end', stop);
  sock.once('close', stop);
  if (resumeLent) resumeLent();
  else {
    sock.on('data', () => undefined);
    sock.resume();
  }
}

/**
 * receiveUpload for a socket reading into one lent buffer (plain FTP STOR):
 * chunks go straight to the upload (common/pump.ts lentChunkUpload), the
 * same failure handling as receiveUpload.
 */
export function receiveLentUpload(lent: UserBufferSocket, ul: Upload, start: number): Promise<void> {
  const sock = lent.socket;
  return new Promise((resolve, reject) => {
    let failed = false;
    let discarding = false;
    const fail = (e: Error): void => {
      if (failed) return;
      failed = true;
      discardThenReject(sock, e, reject, () => { discarding = true; sock.resume(); });
    };
    const sink = lentChunkUpload(ul, start, () => sock.resume(), fail);
    sock.once('error', fail);
    // a close before 'end' is a broken transfer, not a complete file
    sock.once('close', () => { if (!sock.readableEnded) fail(closedError()); });
    sock.once('end', () => {
      if (failed) return;
      sink.flush().then(resolve, fail);
    });
    // a failure inside write() switches to discarding at once: keep reading then
    lent.start((chunk) => discarding || sink.write(chunk) || discarding);
  });
}
