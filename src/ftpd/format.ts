/**
 * Listing formats: `ls -l` lines for LIST (what lftp, FileZilla and curl
 * parse), RFC 3659 facts for MLSD/MLST and the YYYYMMDDHHMMSS time of
 * MDTM/MFMT. All times are UTC, as RFC 3659 requires.
 */
import type { FileInfo } from '../vfs/fs';

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
const SIX_MONTHS_MS = 182 * 24 * 3600 * 1000;

const pad = (n: number, w = 2): string => String(n).padStart(w, '0');

function modeString(fi: FileInfo): string {
  const type = fi.isDirectory ? 'd' : fi.isSymlink ? 'l' : '-';
  const rwx = ['r', 'w', 'x'];
  let s = type;
  for (let i = 8; i >= 0; i--) s += fi.mode & (1 << i) ? rwx[(8 - i) % 3] : '-';
  return s;
}

/** One `ls -l` line; recent files show the time, older ones the year (like GNU ls). */
export function lsLine(fi: FileInfo, now: number = Date.now()): string {
  const t = fi.mtime;
  const recent = Math.abs(now - t.getTime()) < SIX_MONTHS_MS;
  const when = recent ? `${pad(t.getUTCHours())}:${pad(t.getUTCMinutes())}` : ` ${t.getUTCFullYear()}`;
  const date = `${MONTHS[t.getUTCMonth()]} ${pad(t.getUTCDate())} ${when}`;
  const size = String(fi.size).padStart(13);
  return `${modeString(fi)} ${String(fi.nlink ?? 1).padStart(3)} ${String(fi.uid).padEnd(8)} ${String(fi.gid).padEnd(8)} ${size} ${date} ${fi.name}`;
}

export function ftpTime(d: Date): string {
  return `${d.getUTCFullYear()}${pad(d.getUTCMonth() + 1)}${pad(d.getUTCDate())}` +
    `${pad(d.getUTCHours())}${pad(d.getUTCMinutes())}${pad(d.getUTCSeconds())}`;
}

/** Parses YYYYMMDDHHMMSS[.sss] (UTC); undefined when malformed. */
export function parseFtpTime(s: string): Date | undefined {
  const m = /^(\d{4})(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})(?:\.(\d{1,3}))?$/.exec(s);
  if (!m) return undefined;
  const [y, mo, d, h, mi, se] = m.slice(1, 7).map(Number) as [number, number, number, number, number, number];
  const ms = m[7] ? Number(m[7].padEnd(3, '0')) : 0;
  if (mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || se > 60) return undefined;
  return new Date(Date.UTC(y, mo - 1, d, h, mi, se, ms));
}

/**
 * RFC 3659 facts followed by a space and the name. `type` says cdir only for
 * the listed directory itself, so clients skip it. No `perm` fact: it would
 * need the permission rules, which live in common (not exposed per path).
 */
export function mlsxLine(fi: FileInfo, name: string, typeOverride?: 'cdir' | 'pdir'): string {
  const type = typeOverride ?? (fi.isDirectory ? 'dir' : fi.isSymlink ? 'OS.unix=symlink' : 'file');
  const facts = [
    `type=${type}`,
    `size=${fi.size}`,
    `modify=${ftpTime(fi.mtime)}`,
    `unix.mode=0${(fi.mode & 0o7777).toString(8)}`,
    `unix.uid=${fi.uid}`,
    `unix.gid=${fi.gid}`,
  ];
  return `${facts.join(';')}; ${name}`;
}

export const MLST_FACTS = 'type*;size*;modify*;unix.mode*;unix.uid*;unix.gid*;';
