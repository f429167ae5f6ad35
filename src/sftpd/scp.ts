/**
 * SCP (the legacy rcp-style protocol, `scp -O` with OpenSSH ≥ 9) served in
 * process over FileOps: `scp -t` receives (sink), `scp -f` sends (source).
 * Records: `C<mode> <size> <name>` file, `D<mode> 0 <name>` / `E` directory
 * enter/leave (-r), `T<mtime> 0 <atime> 0` times (-p). Each record is answered
 * with 0x00 (ok), 0x01 + message (warning, go on) or 0x02 + message (fatal).
 */
import type { ServerChannel } from 'ssh2';
import type { FileOps } from '../common/types';
import type { AppLogger } from '../logger/types';
import { StreamReader, writeAll } from './streamreader';
import { runSink } from './scpsink';
import { runSource } from './scpsource';

export interface ScpArgs {
  mode: 'sink' | 'source';
  recursive: boolean;
  preserveTimes: boolean;
  /** -d: the target must be a directory (several sources) */
  targetIsDir: boolean;
  paths: string[];
}

/** Parses the words after `scp`. Throws on anything it does not understand. */
export function parseScpArgs(args: string[]): ScpArgs {
  const out: ScpArgs = { mode: 'sink', recursive: false, preserveTimes: false, targetIsDir: false, paths: [] };
  let mode: 'sink' | 'source' | undefined;
  let i = 0;
  for (; i < args.length; i++) {
    const a = args[i]!;
    if (a === '--') { i++; break; }
    if (!a.startsWith('-') || a === '-') break;
    for (const f of a.slice(1)) {
      switch (f) {
        case 't': mode = 'sink'; break;
        case 'f': mode = 'source'; break;
        case 'r': out.recursive = true; break;
        case 'p': out.preserveTimes = true; break;
        case 'd': out.targetIsDir = true; break;
        case 'v': case 'q': case 'E': break;
        default: throw new Error(`unsupported scp option -${f}`);
      }
    }
  }
  if (!mode) throw new Error('scp: exactly one of -t or -f is required');
  out.mode = mode;
  out.paths = args.slice(i);
  if (out.paths.length === 0) throw new Error('scp: missing path');
  if (mode === 'sink' && out.paths.length > 1) throw new Error('scp: a single target is expected');
  return out;
}

/** The connection between the SCP state machines and the channel. */
export class ScpIo {
  readonly reader: StreamReader;
  errors = 0;

  constructor(readonly channel: ServerChannel, readonly ops: FileOps, readonly logger: AppLogger) {
    this.reader = new StreamReader(channel);
  }

  send(data: Buffer | string): Promise<void> {
    return writeAll(this.channel, data);
  }

  ok(): Promise<void> {
    return this.send(Buffer.from([0]));
  }

  /** A non-fatal error record: the client prints it and goes on. */
  warn(message: string): Promise<void> {
    this.errors++;
    this.logger.debug('scp', message, { connection_id: this.ops.id });
    return this.send(`\x01scp: ${message.replace(/\n/g, ' ')}\n`);
  }

  /** Reads the peer's answer to a record: true = ok, false = warning; throws on fatal or EOF. */
  async readAck(): Promise<boolean> {
    const b = await this.reader.byte();
    if (b === null) throw new Error('connection closed while waiting for an acknowledgement');
    if (b === 0) return true;
    const msg = (await this.reader.line(4096)) ?? '';
    if (b === 1) {
      this.errors++;
      this.logger.debug('scp', `client warning: ${msg}`, { connection_id: this.ops.id });
      return false;
    }
    throw new Error(`client error: ${msg}`);
  }
}

export function modeString(mode: number, dir: boolean): string {
  let perm = mode & 0o7777;
  if (perm === 0) perm = dir ? 0o755 : 0o644;
  return perm.toString(8).padStart(4, '0');
}

/** A record name must be a single path element: no traversal through the protocol. */
export function validRecordName(name: string): boolean {
  return name !== '' && name !== '.' && name !== '..' && !name.includes('/') && !name.includes('\0');
}

/** Runs one scp command to completion; returns the exit status. Never throws. */
export async function runScp(channel: ServerChannel, ops: FileOps, logger: AppLogger, args: ScpArgs): Promise<number> {
  const io = new ScpIo(channel, ops, logger);
  try {
    if (args.mode === 'sink') await runSink(io, args);
    else await runSource(io, args);
  } catch (e) {
    io.errors++;
    const msg = e instanceof Error ? e.message : String(e);
    logger.debug('scp', `scp ${args.mode} aborted: ${msg}`, { connection_id: ops.id });
    // best effort: the channel may already be gone
    await io.send(`\x02scp: ${msg.replace(/\n/g, ' ')}\n`).catch(() => undefined);
  } finally {
    io.reader.release();
  }
  return io.errors === 0 ? 0 : 1;
}
