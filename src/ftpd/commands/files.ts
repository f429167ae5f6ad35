/** Navigation and single-file commands: each is one FileOps call plus a reply. */
import type { FtpSession } from '../session';
import { errorReply } from '../replies';
import { ftpTime, parseFtpTime } from '../format';
import { quote257, type CommandTable } from './types';

/** Runs `fn`; an FsError becomes its table reply prefixed with `what`. */
export async function attempt(s: FtpSession, what: string, fn: () => Promise<void>): Promise<void> {
  try {
    await fn();
  } catch (e) {
    const r = errorReply(e, what);
    s.debug(`${what}: ${String((e as Error).message)}`);
    await s.reply(r.code, r.message);
  }
}

async function cwd(s: FtpSession, arg: string): Promise<void> {
  const target = s.resolve(arg.trim() === '' ? '/' : arg);
  await attempt(s, 'Could not change directory', async () => {
    const fi = await s.fs().stat(target);
    if (!fi.isDirectory) return s.reply(550, 'Could not change directory: not a directory');
    s.cwd = target;
    return s.reply(250, `CWD command successful, current directory ${quote257(target)}`);
  });
}

async function mdtm(s: FtpSession, arg: string): Promise<void> {
  // "MDTM YYYYMMDDHHMMSS path" sets the time (as ftpserverlib/SFTPGo do), "MDTM path" reads it
  const sp = arg.indexOf(' ');
  const when = sp > 0 ? parseFtpTime(arg.slice(0, sp)) : undefined;
  if (when) return setTime(s, when, arg.slice(sp + 1));
  const p = s.resolve(arg);
  await attempt(s, 'Could not get modification time', async () => {
    const fi = await s.fs().stat(p);
    await s.reply(213, ftpTime(fi.mtime));
  });
}

async function mfmt(s: FtpSession, arg: string): Promise<void> {
  const sp = arg.indexOf(' ');
  const when = sp > 0 ? parseFtpTime(arg.slice(0, sp)) : undefined;
  if (!when) return s.reply(501, 'Syntax: MFMT YYYYMMDDHHMMSS path');
  return setTime(s, when, arg.slice(sp + 1));
}

async function setTime(s: FtpSession, when: Date, arg: string): Promise<void> {
  const p = s.resolve(arg);
  await attempt(s, 'Could not set modification time', async () => {
    await s.fs().setStat(p, { mtime: when, atime: when });
    await s.reply(213, `Modify=${ftpTime(when)}; ${p}`);
  });
}

async function size(s: FtpSession, arg: string): Promise<void> {
  const p = s.resolve(arg);
  await attempt(s, 'Could not get file size', async () => {
    const fi = await s.fs().stat(p);
    if (fi.isDirectory) return s.reply(550, 'Could not get file size: is a directory');
    return s.reply(213, String(fi.size));
  });
}

async function rnto(s: FtpSession, arg: string): Promise<void> {
  const from = s.renameFrom;
  if (from === undefined) return s.reply(503, 'Use RNFR first');
  const to = s.resolve(arg);
  await attempt(s, 'Could not rename', async () => {
    await s.fs().rename(from, to);
    await s.reply(250, 'Rename successful');
  });
}

async function site(s: FtpSession, arg: string): Promise<void> {
  if (!s.ctx.config.ftpd.enable_site) return s.reply(502, 'SITE support is disabled');
  const m = /^(\S+)\s*(.*)$/.exec(arg.trim());
  const sub = m?.[1]?.toUpperCase() ?? '';
  const rest = m?.[2] ?? '';
  if (sub === 'CHMOD') {
    const cm = /^([0-7]{3,4})\s+(.+)$/.exec(rest);
    if (!cm) return s.reply(501, 'Syntax: SITE CHMOD <octal mode> <path>');
    const p = s.resolve(cm[2]!);
    return attempt(s, 'Could not change mode', async () => {
      await s.fs().setStat(p, { mode: parseInt(cm[1]!, 8) });
      await s.reply(200, 'SITE CHMOD command successful');
    });
  }
  if (sub === 'SYMLINK') {
    const parts = rest.split(' ');
    if (parts.length !== 2) return s.reply(501, 'Syntax: SITE SYMLINK <target> <link>');
    const target = s.resolve(parts[0]!);
    const link = s.resolve(parts[1]!);
    return attempt(s, 'Could not create symlink', async () => {
      await s.fs().symlink(target, link);
      await s.reply(200, 'SITE SYMLINK command successful');
    });
  }
  return s.reply(504, 'SITE subcommand not supported');
}

async function avbl(s: FtpSession, arg: string): Promise<void> {
  const p = s.resolve(arg);
  await attempt(s, 'Could not get available space', async () => {
    const st = await s.fs().statvfs(p);
    await s.reply(213, String(st.bavail * st.frsize));
  });
}

const HASH_LABEL: Record<FtpSession['hashAlgo'], string> = { sha256: 'SHA-256', sha512: 'SHA-512', sha1: 'SHA-1', md5: 'MD5' };

async function hash(s: FtpSession, arg: string): Promise<void> {
  if (s.ctx.config.ftpd.hash_support <= 0) return s.reply(502, 'HASH support is disabled');
  const p = s.resolve(arg);
  await attempt(s, 'Could not compute hash', async () => {
    const fi = await s.fs().stat(p);
    if (!fi.isFile) return s.reply(550, 'Could not compute hash: not a regular file');
    const digest = await s.fs().checksum(p, s.hashAlgo);
    await s.reply(213, `${HASH_LABEL[s.hashAlgo]} 0-${fi.size} ${digest.toString('hex')} ${p}`);
  });
}

export const FILE_COMMANDS: CommandTable = {
  PWD: { auth: true, run: (s) => s.reply(257, `${quote257(s.cwd)} is the current directory`) },
  CWD: { auth: true, run: cwd },
  CDUP: { auth: true, run: (s) => cwd(s, '..') },
  SIZE: { auth: true, run: size },
  MDTM: { auth: true, run: mdtm },
  MFMT: { auth: true, run: mfmt },
  DELE: {
    auth: true,
    run: (s, arg) => attempt(s, 'Could not delete file', async () => {
      await s.fs().removeFile(s.resolve(arg));
      await s.reply(250, 'File deleted');
    }),
  },
  MKD: {
    auth: true,
    run: (s, arg) => attempt(s, 'Could not create directory', async () => {
      const p = s.resolve(arg);
      await s.fs().mkdir(p);
      await s.reply(257, `${quote257(p)} created`);
    }),
  },
  RMD: {
    auth: true,
    run: (s, arg) => attempt(s, 'Could not remove directory', async () => {
      await s.fs().removeDir(s.resolve(arg));
      await s.reply(250, 'Directory removed');
    }),
  },
  RNFR: {
    auth: true,
    run: (s, arg) => attempt(s, 'Could not rename', async () => {
      const p = s.resolve(arg);
      await s.fs().lstat(p);
      s.renameFrom = p;
      await s.reply(350, 'File exists, ready for destination name');
    }),
  },
  RNTO: { auth: true, run: rnto },
  SITE: { auth: true, run: site },
  AVBL: { auth: true, run: avbl },
  HASH: { auth: true, run: hash },
};
// old-style aliases still sent by some clients (RFC 775)
FILE_COMMANDS['XPWD'] = FILE_COMMANDS['PWD']!;
FILE_COMMANDS['XCWD'] = FILE_COMMANDS['CWD']!;
FILE_COMMANDS['XCUP'] = FILE_COMMANDS['CDUP']!;
FILE_COMMANDS['XMKD'] = FILE_COMMANDS['MKD']!;
FILE_COMMANDS['XRMD'] = FILE_COMMANDS['RMD']!;
