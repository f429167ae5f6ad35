/**
 * One SFTPv3 session over a raw SSH channel (a Duplex): framing, dispatch, replies, backpressure and
 * teardown. Handlers (handlers-file.ts, handlers-path.ts, extensions.ts) each return the one reply
 * packet for their request (or throw), so every request is answered exactly once by construction.
 */
import type { Duplex } from 'node:stream';
import type { FileOps } from '../../common/types';
import { FsError } from '../../common/errors';
import type { AppLogger } from '../../logger/types';
import { SFTP_STATUS, sftpStatusFor } from '../status';
import {
  DEFAULT_MAX_INFLIGHT_READ_BYTES, DEFAULT_MAX_OPEN_HANDLES, DEFAULT_MAX_PACKET_LENGTH, OUTBOUND_RESUME_BYTES,
  DEFAULT_MAX_PENDING_WRITE_BYTES, MAX_INFLIGHT_REQUESTS, MAX_READ_LENGTH, MAX_WRITE_LENGTH,
  PKT, SFTP_VERSION, VERSION_EXTENSIONS,
} from './constants';
import { FramingError, PacketFramer, sparesFor } from './framer';
import { isLentMemory } from '../../util/user-buffer-socket';
import { closeEntry, HandleTable } from './handles';
import { BadMessageError, PacketReader, PacketWriter, statusPacket } from './packet';
import { FILE_HANDLERS } from './handlers-file';
import { PATH_HANDLERS } from './handlers-path';
import { handleExtended } from './extensions';
import type { DirectReply } from './direct-data';

/** Resolves uid/gid to names for longnames and users-groups-by-id (empty = unknown). */
export interface UsersGroupsNames {
  user(uid: number): string;
  group(gid: number): string;
}

/** Counters a caller may pass in to observe a session (tests, debug). */
export interface SftpSessionStats {
  requests: number;
  readRequests: number;
  writeRequests: number;
  writeBytes: number;
  maxWriteLength: number;
  maxReadLength: number;
}

export interface SftpSessionOptions {
  logger: AppLogger;
  connectionId: string;
  /** largest request packet accepted (and advertised in limits@openssh.com) */
  maxPacketLength?: number;
  /** READ reply bytes being produced at once before we stop taking requests */
  maxInflightReadBytes?: number;
  /** WRITE bytes not yet acknowledged before we stop reading the channel */
  maxPendingWriteBytes?: number;
  maxOpenHandles?: number;
  /** the start directory (virtual); relative paths and "." resolve against it */
  homeDirectory: string;
  usersGroupsNames?: UsersGroupsNames;
  stats?: SftpSessionStats;
  /**
   * Ends the session (open uploads aborted) when aborted. Wire it to the SSH
   * connection's close: ssh2 emits the channel's 'end'/'close' only once its
   * buffered data is read, which never happens while we hold the channel
   * paused for backpressure and the peer is gone.
   */
  signal?: AbortSignal;
  /** Called once just before the session ends the channel (SSH exit-status; clean = the client ended it). */
  beforeEnd?: (clean: boolean) => void;
}

/** A handler's one reply: a packet, or a READ reply already in SSH packets (direct-data.ts). */
export type RequestHandler = (s: SftpSession, id: number, r: PacketReader) => Promise<Buffer | DirectReply>;

const SENDER = 'sftpd';

export function newSessionStats(): SftpSessionStats {
  return { requests: 0, readRequests: 0, writeRequests: 0, writeBytes: 0, maxWriteLength: 0, maxReadLength: 0 };
}

/**
 * Serves SFTP on `channel` until the client ends it, the channel closes or
 * the client sends a malformed packet. Never rejects: client faults are
 * logged and end the session.
 */
export function serveSftp(channel: Duplex, ops: FileOps, opts: SftpSessionOptions): Promise<void> {
  return new Promise<void>((resolve) => {
    const s = new SftpSession(channel, ops, opts, resolve);
    s.start();
  });
}

export class SftpSession {
  readonly handles: HandleTable;
  readonly home: string;
  readonly maxPacketLength: number;
  readonly maxReadLength: number;
  readonly maxWriteLength: number;
  readonly stats: SftpSessionStats;
  private readonly framer: PacketFramer;
  private readonly maxInflightRead: number;
  private readonly maxPendingWrite: number;
  private initialized = false;
  /** the packet dispatch() is handling, for packetReleaser() */
  private current: Buffer | null = null;
  private inflight = 0;
  private readBytes = 0;
  private writeBytes = 0;
  private outboundBlocked = false;
  private paused = false;
  private pumping = false;
  private inputEnded = false;
  private finished = false;
  private idleWaiters: Array<() => void> = [];
  private detachSignal?: () => void;

  constructor(
    readonly channel: Duplex,
    readonly ops: FileOps,
    readonly opts: SftpSessionOptions,
    private readonly done: () => void,
  ) {
    this.maxPacketLength = opts.maxPacketLength ?? DEFAULT_MAX_PACKET_LENGTH;
    this.maxReadLength = MAX_READ_LENGTH;
    this.maxWriteLength = Math.max(1024, Math.min(MAX_WRITE_LENGTH, this.maxPacketLength - 1024));
    this.maxInflightRead = opts.maxInflightReadBytes ?? DEFAULT_MAX_INFLIGHT_READ_BYTES;
    this.maxPendingWrite = opts.maxPendingWriteBytes ?? DEFAULT_MAX_PENDING_WRITE_BYTES;
    this.handles = new HandleTable(opts.maxOpenHandles ?? DEFAULT_MAX_OPEN_HANDLES);
    this.framer = new PacketFramer(this.maxPacketLength, sparesFor(this.maxPendingWrite));
    this.stats = opts.stats ?? newSessionStats();
    let home = '/';
    try {
      home = ops.cleanPath(opts.homeDirectory || '/');
    } catch {
      // an unusable start directory falls back to the user's root
    }
    this.home = home;
  }

  start(): void {
    const ch = this.channel;
    ch.on('data', (chunk: Buffer) => this.onData(chunk));
    ch.on('end', () => {
      this.inputEnded = true;
      this.pump();
      this.checkDrained();
    });
    ch.on('close', () => void this.finish('channel closed', true));
    const signal = this.opts.signal;
    if (signal) {
      const onAbort = (): void => void this.finish('connection closed', false);
      if (signal.aborted) queueMicrotask(onAbort);
      else {
        signal.addEventListener('abort', onAbort, { once: true });
        this.detachSignal = () => signal.removeEventListener('abort', onAbort);
      }
    }
    // kept for the channel's whole life: a late error must never crash the process
    ch.on('error', (err: Error) => {
      this.log('debug', `channel error: ${err.message}`);
      void this.finish('channel error', false);
    });
  }

  /** Cleans a client path against the start directory. */
  resolve(p: string): string {
    return this.ops.cleanPath(p === '' ? '.' : p, this.home);
  }

  userName(uid: number): string { return this.opts.usersGroupsNames?.user(uid) ?? ''; }
  groupName(gid: number): string { return this.opts.usersGroupsNames?.group(gid) ?? ''; }

  /** Accounts READ reply bytes being produced; call the result when the reply is sent. */
  trackRead(n: number): () => void {
    this.readBytes += n;
    return () => {
      this.readBytes -= n;
    };
  }

  /**
   * Taken by a handler before its first await: calling the function it
   * returns, once nothing reads the request packet any more (a WRITE whose
   * data was written or copied, even after awaits), lets the framer reuse
   * that memory for a later packet.
   */
  packetReleaser(): () => void {
    const pkt = this.current;
    return () => { if (pkt) this.framer.recycle(pkt); };
  }

  /** Accounts WRITE bytes not yet acknowledged. */
  trackWrite(n: number): () => void {
    this.writeBytes += n;
    return () => {
      this.writeBytes -= n;
    };
  }

  log(level: 'debug' | 'info' | 'warn' | 'error', message: string): void {
    this.opts.logger[level](SENDER, message, { connection_id: this.opts.connectionId });
  }

  private onData(chunk: Buffer): void {
    if (this.finished) return;
    this.framer.push(chunk, isLentMemory(chunk)); // a lent chunk is copied before push() returns
    this.pump();
  }

  private blocked(): boolean {
    return (
      this.outboundBlocked ||
      this.inflight >= MAX_INFLIGHT_REQUESTS ||
      this.readBytes >= this.maxInflightRead ||
      this.writeBytes >= this.maxPendingWrite
    );
  }

  /** Pauses the channel while blocked so the SSH window stops refilling. */
  private updateFlow(): void {
    if (this.finished) return;
    // packets already buffered are served first; pump() pauses again if they block us
    if (!this.blocked()) this.pump();
    if (this.finished) return;
    const blocked = this.blocked();
    if (blocked && !this.paused) {
      this.paused = true;
      this.channel.pause();
    } else if (!blocked && this.paused) {
      this.paused = false;
      this.channel.resume();
    }
  }

  private pump(): void {
    if (this.pumping) return;
    this.pumping = true;
    try {
      // bounded by the bytes buffered: every iteration consumes one packet
      while (!this.finished && !this.blocked()) {
        let pkt: Buffer | null;
        try {
          pkt = this.framer.next();
        } catch (e) {
          this.protocolError(e instanceof FramingError ? e.message : 'bad packet');
          return;
        }
        if (!pkt) break;
        this.current = pkt;
        this.dispatch(pkt);
        this.current = null;
      }
    } finally {
      this.pumping = false;
    }
    if (!this.finished && this.blocked() && !this.paused) {
      this.paused = true;
      this.channel.pause();
    }
    this.checkDrained();
  }

  private dispatch(pkt: Buffer): void {
    const type = pkt[0]!;
    this.ops.touch();
    if (!this.initialized) {
      if (type !== PKT.INIT || pkt.length < 5) {
        this.protocolError(`expected INIT, got packet type ${type}`);
        return;
      }
      this.initialized = true;
      this.send(this.versionPacket());
      return;
    }
    if (pkt.length < 5) {
      this.protocolError(`truncated packet of type ${type}`);
      return;
    }
    const id = pkt.readUInt32BE(1);
    this.stats.requests++;
    const handler: RequestHandler | undefined =
      type === PKT.EXTENDED ? handleExtended : FILE_HANDLERS[type] ?? PATH_HANDLERS[type];
    if (!handler) {
      this.send(statusPacket(id, SFTP_STATUS.OP_UNSUPPORTED, `unsupported packet type ${type}`));
      return;
    }
    this.inflight++;
    void this.execute(handler, id, type, new PacketReader(pkt, 5));
  }

  private async execute(handler: RequestHandler, id: number, type: number, r: PacketReader): Promise<void> {
    try {
      this.send(await handler(this, id, r));
    } catch (e) {
      this.replyError(id, type, e);
    } finally {
      this.inflight--;
      if (this.inflight === 0) {
        const w = this.idleWaiters;
        this.idleWaiters = [];
        for (const f of w) f();
      }
      this.updateFlow();
      this.checkDrained();
    }
  }

  private replyError(id: number, type: number, e: unknown): void {
    if (e instanceof BadMessageError) {
      this.send(statusPacket(id, SFTP_STATUS.BAD_MESSAGE, 'bad message'));
      this.protocolError(`malformed request of type ${type}: ${e.message}`);
      return;
    }
    const st = sftpStatusFor(e);
    const detail = e instanceof FsError ? `${e.kind}: ${e.message}` : e instanceof Error ? e.message : String(e);
    this.log('debug', `request type ${type} failed: ${detail}`);
    this.send(statusPacket(id, st.code, st.message));
  }

  send(reply: Buffer | DirectReply): void {
    if (this.finished) return;
    let ok: boolean;
    try {
      // a DirectReply's packets are sent at its marker's turn in the channel (direct-data.ts)
      ok = this.channel.write(Buffer.isBuffer(reply) ? reply : reply.marker, this.afterWrite);
    } catch (e) {
      this.log('debug', `write failed: ${e instanceof Error ? e.message : String(e)}`);
      void this.finish('write failed', false);
      return;
    }
    if (!ok && !this.outboundBlocked) {
      this.outboundBlocked = true;
      this.updateFlow();
    }
  }

  /**
   * Blocked over the channel's high-water mark, we take requests again at
   * OUTBOUND_RESUME_BYTES, not at 'drain' (empty): READs resumed only then had
   * nothing ready to send while their file reads ran (docs/benchmarks.md).
   */
  private readonly afterWrite = (): void => {
    if (this.outboundBlocked && this.channel.writableLength <= OUTBOUND_RESUME_BYTES) {
      this.outboundBlocked = false;
      this.updateFlow();
    }
  };

  private versionPacket(): Buffer {
    const w = new PacketWriter(PKT.VERSION, undefined, 512);
    w.u32(SFTP_VERSION);
    for (const [name, data] of VERSION_EXTENSIONS) w.string(name).string(data);
    return w.finish();
  }

  /** After the client's EOF: end once every complete request has been answered. */
  private checkDrained(): void {
    if (!this.inputEnded || this.finished || this.inflight > 0) return;
    if (this.blocked()) return;
    void this.finish('client ended the session', true);
  }

  private protocolError(reason: string): void {
    if (this.finished) return;
    this.log('warn', `closing SFTP session: ${reason}`);
    void this.finish(reason, false);
  }

  private waitIdle(): Promise<void> {
    if (this.inflight === 0) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  /** Ends the session once: waits for running requests, closes every handle, ends the channel. */
  private async finish(reason: string, clean: boolean): Promise<void> {
    if (this.finished) return;
    // replies still queued in the channel go out before EOF; later sends are dropped
    this.finished = true;
    this.detachSignal?.();
    this.framer.clear();
    this.log('debug', `SFTP session ending: ${reason}`);
    try {
      await this.waitIdle();
      const abort = new FsError('Aborted', 'SFTP session ended before the handle was closed');
      for (const entry of this.handles.takeAll()) {
        try {
          await closeEntry(entry, entry.kind === 'file' && entry.upload ? abort : undefined);
        } catch (e) {
          this.log('debug', `closing ${entry.vpath} at session end: ${e instanceof Error ? e.message : String(e)}`);
        }
      }
      try {
        this.opts.beforeEnd?.(clean);
      } catch (e) {
        this.log('warn', `beforeEnd hook failed: ${e instanceof Error ? e.message : String(e)}`);
      }
      try {
        this.channel.end();
      } catch {
        // the channel may already be gone; nothing more to release
      }
    } finally {
      this.done();
    }
  }
}
