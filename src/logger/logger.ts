/**
 * AppLogger on pino, writing SFTPGo's JSON lines: `level` as a word, `time`
 * as `YYYY-MM-DDTHH:MM:SS.mmm` (local or UTC), `sender`, then the fields,
 * then `message`. File output rotates by size (rotate.ts); an empty path
 * logs to stderr, as SFTPGo does.
 */
import pino from 'pino';
import type { AppLogger, LogFields } from './types';
import { commandFields, formatLogTime, redactPaths, transferFields } from './format';
import { RotatingFile, type RotationReason } from './rotate';

export interface LoggerOptions {
  filePath: string;
  level: string;
  maxSizeMB: number;
  maxBackups: number;
  maxAgeDays: number;
  compress: boolean;
  utc: boolean;
  /** `serve --workers` worker: rotations (forced, or the shared file is full) are asked of the primary (rotate.ts) */
  requestRotation?: (reason: RotationReason) => void;
}

/** An AppLogger that also owns its file: close() drains and releases it (app stop, tests). */
export interface ClosableLogger extends AppLogger {
  close(): Promise<void>;
  /** The file was renamed by another process (the primary's rotation): write to a new one at the path. */
  reopen(): void;
  /** The primary of `serve --workers`: rotates the shared file only if it is full (a worker's request). */
  rotateIfFull(): boolean;
  /** The primary of `serve --workers`: called after it rotated the shared file by size. */
  onSizeRotation(fn: () => void): void;
}

export const LOG_LEVELS = ['debug', 'info', 'warn', 'error'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

export function isLogLevel(s: string): s is LogLevel {
  return (LOG_LEVELS as readonly string[]).includes(s);
}

export function createLogger(opts: LoggerOptions): ClosableLogger {
  if (!isLogLevel(opts.level)) {
    throw new Error(`invalid log level "${opts.level}": must be one of ${LOG_LEVELS.join(', ')}`);
  }
  let file: RotatingFile | undefined;
  let dest: pino.DestinationStream;
  if (opts.filePath === '') {
    // Synchronous: stderr lines must survive an immediate process exit.
    dest = pino.destination({ fd: 2, sync: true });
  } else {
    let reported = false;
    file = new RotatingFile({
      ...opts,
      onError: (err) => {
        // Report the first I/O error on stderr; repeating it per line would flood.
        if (!reported) process.stderr.write(`sftpgo: log file ${opts.filePath}: ${err.message}\n`);
        reported = true;
      },
    });
    dest = file;
  }
  const utc = opts.utc;
  const p = pino(
    {
      level: opts.level,
      base: null,
      messageKey: 'message',
      timestamp: () => `,"time":"${formatLogTime(new Date(), utc)}"`,
      formatters: { level: (label: string) => ({ level: label }) },
      redact: { paths: redactPaths(), censor: '[redacted]' },
    },
    dest,
  );
  return buildAppLogger(p, file);
}

function buildAppLogger(p: pino.Logger, file: RotatingFile | undefined): ClosableLogger {
  const emit = (level: LogLevel, sender: string, message: string | undefined, fields?: LogFields): void => {
    const obj = { sender, ...(fields ?? {}) };
    if (message === undefined) p[level](obj);
    else p[level](obj, message);
  };
  const emitFields = (level: LogLevel, fields: LogFields): void => {
    p[level](fields);
  };
  return {
    debug: (sender, message, fields) => emit('debug', sender, message, fields),
    info: (sender, message, fields) => emit('info', sender, message, fields),
    warn: (sender, message, fields) => emit('warn', sender, message, fields),
    error: (sender, message, fields) => emit('error', sender, message, fields),
    isDebugEnabled: () => p.isLevelEnabled('debug'),
    transfer: (e) => emitFields(e.error !== undefined ? 'error' : 'info', transferFields(e)),
    command: (e) => emitFields('info', commandFields(e)),
    connectionFailed: (e) =>
      emitFields('debug', {
        sender: 'connection_failed',
        client_ip: e.clientIp,
        username: e.username,
        login_type: e.loginType,
        protocol: e.protocol,
        error: e.error,
      }),
    login: (e) => {
      const f: LogFields = {
        sender: 'login',
        ip: e.ip,
        username: e.username,
        method: e.method,
        protocol: e.protocol,
        connection_id: e.connectionId,
        client: e.client,
        encrypted: e.encrypted,
      };
      if (e.info !== undefined && e.info !== '') f.info = e.info;
      emitFields('info', f);
    },
    http: (fields) => {
      const s = fields.resp_status;
      const level: LogLevel = s >= 500 ? 'error' : s >= 400 ? 'warn' : 'debug';
      // sender first, as in SFTPGo's lines; a caller-supplied sender cannot override it
      const { sender: _ignored, ...rest } = fields;
      emitFields(level, { sender: 'httpd', ...rest });
    },
    rotate: () => file?.rotate(),
    reopen: () => file?.reopen(),
    rotateIfFull: () => file?.rotateIfFull() ?? false,
    onSizeRotation: (fn) => file?.onSizeRotation(fn),
    flush: async () => {
      if (file) await file.flush();
    },
    close: async () => {
      if (file) await file.close();
    },
  };
}

/** Discards everything: for tests that want silence. */
export function createNullLogger(): ClosableLogger {
  const noop = (): void => undefined;
  return {
    debug: noop,
    info: noop,
    warn: noop,
    error: noop,
    isDebugEnabled: () => false,
    transfer: noop,
    command: noop,
    connectionFailed: noop,
    login: noop,
    http: noop,
    rotate: noop,
    reopen: noop,
    rotateIfFull: () => false,
    onSizeRotation: noop,
    flush: async () => undefined,
    close: async () => undefined,
  };
}
