/**
 * Built-in SSH commands (`sftpd.enabled_ssh_commands`): checksums, cd, pwd,
 * sftpgo-copy and sftpgo-remove (FileOps.copy / removeAll). Everything goes through FileOps, so the
 * user's permissions and virtual folders apply; only git and rsync (sshcmd-system.ts) run a process.
 */
import { createHash } from 'node:crypto';
import type { ServerChannel } from 'ssh2';
import type { FileOps } from '../common/types';
import type { ServerContext } from '../common/context';
import { isFsError } from '../common/errors';
import { SYSTEM_COMMANDS } from '../common/system-command';
import { runSystemCommand } from './sshcmd-system';

/** git and rsync read the channel: the session must not drain it before they start. */
export const isSystemCommand = (name: string): boolean => (SYSTEM_COMMANDS as readonly string[]).includes(name);

export const KNOWN_SSH_COMMANDS = [
  'scp', 'md5sum', 'sha1sum', 'sha256sum', 'sha384sum', 'sha512sum', 'cd', 'pwd', 'sftpgo-copy', 'sftpgo-remove',
  ...SYSTEM_COMMANDS,
] as const;
export const DEFAULT_SSH_COMMANDS = ['md5sum', 'sha1sum', 'sha256sum', 'cd', 'pwd', 'scp'];

const HASHES: Record<string, 'md5' | 'sha1' | 'sha256' | 'sha384' | 'sha512'> = {
  md5sum: 'md5', sha1sum: 'sha1', sha256sum: 'sha256', sha384sum: 'sha384', sha512sum: 'sha512',
};

/** `*` enables every known command; unknown names are ignored (with a warning from the caller). */
export function enabledSshCommands(configured: string[]): { enabled: Set<string>; unknown: string[] } {
  const known = KNOWN_SSH_COMMANDS as readonly string[];
  if (configured.includes('*')) return { enabled: new Set(known), unknown: [] };
  const enabled = new Set<string>();
  const unknown: string[] = [];
  for (const c of configured) {
    if (known.includes(c)) enabled.add(c); else unknown.push(c);
  }
  return { enabled, unknown };
}

export interface SshCommandRun {
  ctx: ServerContext;
  ops: FileOps;
  channel: ServerChannel;
  name: string;
  args: string[];
  /** the raw command line, for logs */
  commandLine: string;
  localAddr: string;
  remoteAddr: string;
  /** the session's GIT_PROTOCOL env request, already checked (gitProtocolFromEnv) */
  gitProtocol?: string;
}

function write(stream: NodeJS.WritableStream, text: string): Promise<void> {
  return new Promise((resolve) => {
    // the callback fires once the data is handed to the SSH layer (or the write failed: the channel is gone)
    stream.write(text, () => resolve());
  });
}

async function execute(run: SshCommandRun): Promise<{ out: string; path: string }> {
  const { ops, name, args } = run;
  const algo = HASHES[name];
  if (algo) {
    // no path: the digest of empty input, as SFTPGo answers
    if (args.length === 0) return { out: `${createHash(algo).digest('hex')}  -\n`, path: '' };
    const vpath = ops.cleanPath(args[0]!);
    const digest = await ops.checksum(vpath, algo);
    return { out: `${digest.toString('hex')}  ${vpath}\n`, path: vpath };
  }
  switch (name) {
    case 'cd': return { out: '', path: '' };
    case 'pwd': return { out: '/\n', path: '' };
    case 'sftpgo-copy': {
      if (args.length !== 2) throw new Error('usage: sftpgo-copy <source> <destination>');
      const from = ops.cleanPath(args[0]!);
      const to = ops.cleanPath(args[1]!);
      // recursive, `cp -r` semantics and every per-item check live in common
      await ops.copy(from, to);
      return { out: 'OK\n', path: from };
    }
    case 'sftpgo-remove': {
      if (args.length !== 1) throw new Error('usage: sftpgo-remove <path>');
      const vpath = ops.cleanPath(args[0]!);
      await ops.removeAll(vpath);
      return { out: 'OK\n', path: vpath };
    }
    default: throw new Error(`command "${name}" is not supported`);
  }
}

/** The second path of the commands that have one (sftpgo-copy), for the ssh_cmd action. */
function sshCommandTarget(run: SshCommandRun): string {
  return run.name === 'sftpgo-copy' && run.args.length === 2 ? run.ops.cleanPath(run.args[1]!) : '';
}

interface CommandOutcome { status: number; vpath: string; fsPath?: string; error?: string; bytesIn?: number; bytesOut?: number }

/** The in-process commands: their output or a one-line error on stderr. */
async function runBuiltin(run: SshCommandRun): Promise<CommandOutcome> {
  try {
    const r = await execute(run);
    if (r.out) await write(run.channel, r.out);
    return { status: 0, vpath: r.path };
  } catch (e) {
    const error = isFsError(e) || e instanceof Error ? e.message : 'failure';
    await write(run.channel.stderr, `${run.name}: ${error}\n`);
    return { status: 1, vpath: '', error };
  }
}

/** Runs one command; returns the exit status. Never throws. */
export async function runSshCommand(run: SshCommandRun): Promise<number> {
  const { ctx, ops, channel } = run;
  const started = Date.now();
  ops.setCommand(run.commandLine);
  const system = isSystemCommand(run.name);
  const outcome: CommandOutcome = system ? await runSystemCommand(channel, ops, run.name, run.args, run.gitProtocol) : await runBuiltin(run);
  const { status, vpath, fsPath, error } = outcome;
  if (system && fsPath !== undefined) {
    // as SFTPGo: the program's input is an upload and its output a download of the path
    const common = { localAddr: run.localAddr, remoteAddr: run.remoteAddr, elapsedMs: Date.now() - started, username: ops.user.username,
      filePath: fsPath, virtualPath: vpath, connectionId: ops.id, protocol: 'SSH', error };
    ctx.logger.transfer({ sender: 'Upload', sizeBytes: outcome.bytesIn ?? 0, ...common });
    ctx.logger.transfer({ sender: 'Download', sizeBytes: outcome.bytesOut ?? 0, ...common });
  }
  ctx.metrics.sshCommand(status !== 0);
  ctx.logger.command({
    sender: 'SSHCommand', localAddr: run.localAddr, remoteAddr: run.remoteAddr, username: ops.user.username,
    filePath: fsPath ?? '', virtualPath: vpath, elapsedMs: Date.now() - started, sshCommand: run.commandLine,
    connectionId: ops.id, protocol: 'SSH', error,
  });
  await ops.sshCommandDone?.(run.commandLine, vpath, sshCommandTarget(run), Date.now() - started, error === undefined ? undefined : new Error(error));
  return status;
}
