/**
 * STOR and RETR use uploadSink() and downloadPump() from src/common/pump.ts
 * (shared with WebDAV PUT and GET); this file only couples them to the data
 * socket.
 */
import type * as net from 'node:net';
import type { Writable } from 'node:stream';

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
      if (sock.destroyed || sock.readableEnded) { reject(e); return; }
      const t = setTimeout(() => sock.destroy(), DISCARD_MS);
      const stop = (): void => { clearTimeout(t); reject(e); };
      sock.once('end', stop);
      sock.once('close', stop);
      sock.on('data', () => undefined);
      sock.resume();
    };
    sink.once('error', fail);
    sink.once('finish', () => { if (!failed) resolve(); });
    sock.once('error', fail);
    // a close before 'end' is a broken transfer, not a complete file
    sock.once('close', () => { if (!sock.readableEnded) fail(closedError()); });
    sock.pipe(sink);
  });
}
