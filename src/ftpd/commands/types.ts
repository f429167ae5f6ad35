import type { FtpSession } from '../session';

/** A command handler. `auth` commands are refused with 530 before login. */
export interface Command {
  auth: boolean;
  run(s: FtpSession, arg: string): Promise<void>;
}

export type CommandTable = Record<string, Command>;

/** "a"" b" quoting for 257 replies (RFC 959 appendix II). */
export const quote257 = (p: string): string => `"${p.replace(/"/g, '""')}"`;
