/**
 * `ls -l` style longname for READDIR entries, shaped like OpenSSH's
 * sftp-server (`ls_file`): OpenSSH's `sftp ls -l` prints it verbatim.
 * Times are UTC (SFTPGo's default `tz`).
 */
import type { FileInfo } from '../../vfs/fs';

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
const SIX_MONTHS_MS = 182 * 24 * 3600 * 1000;

export function modeString(mode: number): string {
  let t: string;
  switch (mode & 0o170000) {
    case 0o040000: t = 'd'; break;
    case 0o120000: t = 'l'; break;
    case 0o010000: t = 'p'; break;
    case 0o140000: t = 's'; break;
    case 0o020000: t = 'c'; break;
    case 0o060000: t = 'b'; break;
    default: t = '-';
  }
  const bit = (m: number, c: string): string => (mode & m ? c : '-');
  const special = (exec: number, flag: number, on: string, onNoExec: string): string => {
    if (mode & flag) return mode & exec ? on : onNoExec;
    return mode & exec ? 'x' : '-';
  };
  return (
    t +
    bit(0o400, 'r') + bit(0o200, 'w') + special(0o100, 0o4000, 's', 'S') +
    bit(0o040, 'r') + bit(0o020, 'w') + special(0o010, 0o2000, 's', 'S') +
    bit(0o004, 'r') + bit(0o002, 'w') + special(0o001, 0o1000, 't', 'T')
  );
}

function pad2(n: number): string {
  return n < 10 ? `0${n}` : String(n);
}

/** "Jan  2 15:04" for recent files, "Jan  2  2006" otherwise (as ls does). */
export function lsTime(mtime: Date, now: number): string {
  const ms = mtime.getTime();
  const valid = Number.isFinite(ms);
  const d = valid ? mtime : new Date(0);
  const day = String(d.getUTCDate()).padStart(2, ' ');
  const head = `${MONTHS[d.getUTCMonth()]} ${day}`;
  if (valid && ms > now - SIX_MONTHS_MS && ms <= now) {
    return `${head} ${pad2(d.getUTCHours())}:${pad2(d.getUTCMinutes())}`;
  }
  return `${head}  ${d.getUTCFullYear()}`;
}

export function formatLongname(
  info: FileInfo,
  name: string,
  owner: string,
  group: string,
  now: number = Date.now(),
): string {
  const user = owner || String(info.uid);
  const grp = group || String(info.gid);
  const nlink = String(info.nlink ?? 1).padStart(3, ' ');
  const size = String(info.size).padStart(8, ' ');
  return `${modeString(info.mode)}  ${nlink} ${user.padEnd(8, ' ')} ${grp.padEnd(8, ' ')} ${size} ${lsTime(info.mtime, now)} ${name}`;
}
