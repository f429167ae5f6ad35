/**
 * Moves an accepted TCP socket onto Node's `onread` mode: the kernel copies
 * each read into one buffer owned by the socket and a callback gets it, with
 * no Buffer allocated per read and no stream machinery. Node offers `onread`
 * only to sockets it creates for net.connect(), not to those a net.Server
 * accepts, so the accepted socket's handle is moved into a new net.Socket made
 * with `onread` (the handle is the same OS socket; the old wrapper is left
 * without one).
 *
 * Why: an FTP upload (socket to file) measured on the 2-core bench machine,
 * 512 MiB from a loopback socket: 650-990 MB/s with 'data' events (a fresh
 * 64 KiB buffer per read: page faults, GC work on V8's helper threads), 1400-
 * 1770 MB/s reading 256 KiB at a time into one reused buffer.
 *
 * It relies on net.Socket's `_handle` (not a public API), so adoption is
 * refused, and the caller keeps the ordinary stream path, when the socket is
 * not in the expected shape: a plain TCP socket (not TLS) that has not read
 * anything yet. test/unit/util/user-buffer-socket.test.ts fails if a Node
 * release changes this.
 */
import * as net from 'node:net';
import * as tls from 'node:tls';

/** Gets a chunk valid only during the call; false pauses the socket (resume() goes on). */
export type LentChunkHandler = (chunk: Buffer) => boolean;

export interface UserBufferSocket {
  readonly socket: net.Socket;
  /** Sets who gets the chunks and starts reading. */
  start(handler: LentChunkHandler): void;
}

interface HandleHolder {
  _handle?: { readStop?: unknown; useUserBuffer?: unknown; reading?: boolean } | null;
}

export const DEFAULT_USER_BUFFER_SIZE = 256 * 1024;

/** True when `adoptWithUserBuffer` can take `sock` over. */
export function canAdopt(sock: net.Socket): boolean {
  if (!(sock instanceof net.Socket) || sock instanceof tls.TLSSocket) return false;
  const h = (sock as unknown as HandleHolder)._handle;
  return (
    !!h &&
    typeof h.readStop === 'function' &&
    typeof h.useUserBuffer === 'function' &&
    h.reading !== true &&
    !sock.destroyed &&
    sock.readableLength === 0 &&
    sock.bytesRead === 0
  );
}

/**
 * A socket on the same connection as `sock` that reads into its own buffer
 * of `size` bytes, or undefined (and `sock` untouched) when that is not
 * possible. On success `sock` must not be used any more: its listeners are
 * removed and it is released without closing the connection. The new socket
 * stays paused until start().
 */
export function adoptWithUserBuffer(sock: net.Socket, size = DEFAULT_USER_BUFFER_SIZE): UserBufferSocket | undefined {
  if (!canAdopt(sock)) return undefined;
  let handler: LentChunkHandler | undefined;
  const buffer = Buffer.allocUnsafe(size);
  const socket = moveHandle(sock, {
    buffer,
    callback: (n: number, buf: Uint8Array) => (handler ? handler((buf as Buffer).subarray(0, n)) : false),
  });
  return {
    socket,
    start(h) {
      handler = h;
      socket.resume();
    },
  };
}

/** reads of a quiet connection go to a small fresh buffer each */
const QUIET_READ_BYTES = 16 * 1024;
/** a busy connection reads into the rest of a slab of this size... */
const SLAB_BYTES = 256 * 1024;
/** ...until less than this is left, then starts a new slab */
const MIN_SLAB_READ_BYTES = 32 * 1024;

/**
 * A socket on the same connection as `sock` that emits ordinary 'data'
 * events, for consumers that keep the chunks (ssh2 decrypts in place and
 * hands out views into them), but without Node's per-read cost: by default
 * each read gets a fresh 64 KiB buffer that V8 then reallocates to the bytes
 * read (a copy of every byte received). Here a busy connection reads straight
 * into the unused rest of a slab and each chunk is a view into it; memory is
 * never reused, so a kept chunk stays valid (the GC frees a slab with its
 * last view). A quiet connection (a read smaller than QUIET_READ_BYTES)
 * reads into a small fresh buffer, so an idle session pins no slab.
 * Undefined (and `sock` untouched) when adoption is not possible; the new
 * socket starts paused and reads from its first resume() (ssh2 adds its
 * 'data' listener, then resumes).
 */
export function adoptWithSlabReads(sock: net.Socket): net.Socket | undefined {
  if (!canAdopt(sock)) return undefined;
  let slab: Buffer | null = null;
  let used = 0;
  let busy = false;
  const nextBuffer = (): Buffer => {
    if (!busy) {
      slab = null;
      return Buffer.allocUnsafeSlow(QUIET_READ_BYTES);
    }
    if (!slab || slab.length - used < MIN_SLAB_READ_BYTES) {
      slab = Buffer.allocUnsafeSlow(SLAB_BYTES);
      used = 0;
    }
    return slab.subarray(used);
  };
  const socket: net.Socket = moveHandle(sock, {
    buffer: nextBuffer,
    callback: (n: number, buf: Uint8Array): boolean => {
      // the next buffer is asked for after this returns: the slab offset must move first
      if (busy) used += n;
      busy = n >= QUIET_READ_BYTES;
      socket.emit('data', (buf as Buffer).subarray(0, n));
      return true;
    },
  });
  return socket;
}

/**
 * Memory that socket reads are lent into and that is overwritten by the next
 * read: a Buffer over it is valid only while the call that got it runs. A
 * consumer that keeps bytes past that (a parser's partial packet, a stream's
 * buffered chunk) must copy them; isLentMemory() tells it when.
 */
const lentMemory = new WeakSet<ArrayBufferLike>();

/** Registers memory that is overwritten after each call handing out views of it (a reused assembly buffer). */
export function registerLentMemory(buffer: Uint8Array): void {
  lentMemory.add(buffer.buffer);
}

/** Whether `view` lies in memory a socket read was lent into (valid only during the current call). */
export function isLentMemory(view: Uint8Array): boolean {
  return lentMemory.has(view.buffer);
}

/** Gets each read, a view into the socket's one buffer, valid only during the call. */
export type LentReadHandler = (socket: net.Socket, chunk: Buffer) => void;

/**
 * A socket on the same connection as `sock` that reads into one buffer of
 * `size` bytes, reused for every read and registered as lent memory, and
 * passes each read to `onRead` (which emits 'data' itself, with the lent view
 * or a copy: sftpd/ssh2-lent-reads.ts decides). Unlike adoptWithUserBuffer,
 * the socket keeps the stream's pause()/resume(): it starts paused and reads
 * from its first resume(), as adoptWithSlabReads. Undefined (and `sock`
 * untouched) when adoption is not possible.
 */
export function adoptWithLentReads(sock: net.Socket, onRead: LentReadHandler, size = DEFAULT_USER_BUFFER_SIZE): net.Socket | undefined {
  if (!canAdopt(sock)) return undefined;
  const buffer = Buffer.allocUnsafeSlow(size);
  registerLentMemory(buffer);
  const socket: net.Socket = moveHandle(sock, {
    buffer,
    callback: (n: number, buf: Uint8Array): boolean => {
      onRead(socket, (buf as Buffer).subarray(0, n));
      return true;
    },
  });
  return socket;
}

/**
 * Moves `sock`'s handle (canAdopt must hold) into a new paused net.Socket
 * reading with `onread`; the old wrapper no longer owns the connection:
 * destroying it only emits its 'close'.
 */
function moveHandle(sock: net.Socket, onread: net.OnReadOpts): net.Socket {
  const holder = sock as unknown as HandleHolder;
  const socket = new net.Socket({
    handle: holder._handle as unknown as undefined,
    allowHalfOpen: sock.allowHalfOpen,
    readable: true,
    writable: true,
    pauseOnCreate: true,
    onread,
  } as net.SocketConstructorOpts & { handle: unknown; pauseOnCreate: boolean });
  holder._handle = null;
  sock.removeAllListeners();
  sock.on('error', () => undefined);
  sock.destroy();
  return socket;
}
