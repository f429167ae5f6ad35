/** Plugin output into our log: hclog JSON lines on stderr, at their level, bounded in size. */
import type { AppLogger } from '../logger/types';

const MAX_LINE = 16 * 1024;

/** Splits a byte stream into lines; an over-long line is cut, never buffered without bound. */
export class LineSplitter {
  private buf = '';
  lastLine = '';

  constructor(private readonly onLine: (line: string) => void) {}

  push(chunk: Buffer): void {
    this.buf += chunk.toString('utf8');
    let nl: number;
    while ((nl = this.buf.indexOf('\n')) >= 0) {
      this.emit(this.buf.slice(0, nl));
      this.buf = this.buf.slice(nl + 1);
    }
    if (this.buf.length > MAX_LINE) {
      this.emit(this.buf);
      this.buf = '';
    }
  }

  private emit(line: string): void {
    const l = line.replace(/\r$/, '').slice(0, MAX_LINE);
    if (l.trim() === '') return;
    this.lastLine = l;
    this.onLine(l);
  }
}

type Level = 'debug' | 'info' | 'warn' | 'error';
const LEVELS: Record<string, Level> = { trace: 'debug', debug: 'debug', info: 'info', warn: 'warn', error: 'error' };

/** One stderr line: hclog JSON (`@level`, `@message`, other keys as fields) or plain text at debug, as go-plugin does. */
export function logPluginLine(logger: AppLogger, plugin: string, line: string): void {
  let parsed: unknown;
  try {
    parsed = JSON.parse(line);
  } catch {
    parsed = undefined;
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    logger.debug('plugins', `${plugin}: ${line}`);
    return;
  }
  const rec = parsed as Record<string, unknown>;
  const level = LEVELS[String(rec['@level'] ?? 'debug')] ?? 'debug';
  const fields: Record<string, string | number | boolean> = {};
  for (const [k, v] of Object.entries(rec)) {
    if (k === '@level' || k === '@message' || k === '@timestamp') continue;
    if (typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean') fields[k.replace(/^@/, 'plugin_')] = v;
  }
  logger[level]('plugins', `${plugin}: ${String(rec['@message'] ?? '')}`, fields);
}
