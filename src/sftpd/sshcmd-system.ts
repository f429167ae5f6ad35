/**
 * Runs git or rsync for an SSH exec channel once common has jailed the path
 * and checked permissions and quota (FileOps.systemCommandScope): no shell
 * (argument array), cwd at realpath(root), an environment built from nothing
 * with an empty temporary HOME, the bytes in each direction counted against the
 * disk and transfer quotas (over the limit the program is killed), the touched
 * tree rescanned afterwards to reconcile the used quota, as SFTPGo did.
 */
import { spawn } from 'node:child_process';
import { promises as fsp } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { ServerChannel } from 'ssh2';
import { FsError } from '../common/errors';
import type { FileOps } from '../common/types';
import { isWithin, type SystemCommandScope } from '../common/system-command';
import { GIT_COMMANDS, gitEnvironment, prepareGit } from './sshcmd-git';
import { parseRsyncArgs } from './sshcmd-rsync';

export interface SystemCommandResult { status: number; vpath: string; fsPath?: string; error?: string; bytesIn: number; bytesOut: number }

export function isGitCommand(name: string): boolean {
  return (GIT_COMMANDS as readonly string[]).includes(name);
}

interface Planned { program: string; args: string[]; env: NodeJS.ProcessEnv; scope: SystemCommandScope }

/** The client's path argument, jailed, and the program's argument array. */
async function plan(ops: FileOps, name: string, args: readonly string[], home: string, gitProtocol?: string): Promise<Planned> {
  if (!ops.systemCommandScope) throw new FsError('Unsupported', 'command unsupported for this configuration');
  if (name === 'rsync') {
    const rs = parseRsyncArgs(args);
    const vpath = ops.cleanPath(rs.path);
    const scope = await ops.systemCommandScope(vpath);
    // a trailing slash means "the contents of" to rsync: keep it
    const target = rs.path.endsWith('/') && !scope.fsPath.endsWith(path.sep) ? scope.fsPath + path.sep : scope.fsPath;
    const env = { PATH: '/usr/local/bin:/usr/bin:/bin', HOME: home, LANG: 'C', LC_ALL: 'C' };
    return { program: 'rsync', args: [...rs.options, target], env, scope };
  }
  if (args.length !== 1) throw new Error(`usage: ${name} <repository>`);
  const vpath = ops.cleanPath(args[0]!);
  let scope = await ops.systemCommandScope(vpath);
  const env = gitEnvironment(home, gitProtocol);
  const git = await prepareGit(name, args, scope.fsPath, scope.root, env);
  if (!isWithin(git.repo, scope.fsPath)) {
    // git found "<path>.git": that is the tree the rules, the jail and the quota scan are about
    scope = await ops.systemCommandScope(`${vpath}.git`);
    if (!isWithin(git.repo, scope.fsPath)) throw new FsError('PermissionDenied', 'repository outside the requested path');
  }
  return { program: 'git', args: git.args, env, scope };
}

function execute(channel: ServerChannel, ops: FileOps, p: Planned): Promise<{ status: number; error?: string; bytesIn: number; bytesOut: number }> {
  return new Promise((resolve) => {
    const ids = runAs(p.scope);
    const child = spawn(p.program, p.args, { cwd: p.scope.root, env: p.env, stdio: ['pipe', 'pipe', 'pipe'], shell: false, ...ids });
    let bytesIn = 0;
    let bytesOut = 0;
    let limitError: string | undefined;
    let killTimer: NodeJS.Timeout | undefined;
    // SIGTERM first: rsync then saves a --partial file; SIGKILL if it does not exit in time
    const stop = (why: string, tellClient: boolean): void => {
      if (limitError !== undefined) return;
      limitError = why;
      // written before the kill: it reaches the client ahead of the program's own failure message
      if (tellClient) channel.stderr.write(`${p.program}: ${why}\n`);
      child.stdin.end();
      child.kill('SIGTERM');
      killTimer ??= setTimeout(() => child.kill('SIGKILL'), 10_000);
    };
    const upLimit = p.scope.transfer.upload;
    const diskLimit = p.scope.remainingQuota;
    const downLimit = p.scope.transfer.download;
    const onIn = (d: Buffer): void => {
      bytesIn += d.length;
      ops.touch();
      if (diskLimit > 0 && bytesIn > diskLimit) stop('quota exceeded', true);
      else if (upLimit >= 0 && bytesIn > upLimit) stop('upload transfer quota exceeded', true);
    };
    const onOut = (d: Buffer): void => {
      bytesOut += d.length;
      ops.touch();
      if (downLimit >= 0 && bytesOut > downLimit) stop('download transfer quota exceeded', true);
    };
    const onChannelClose = (): void => { if (child.exitCode === null) stop('the client closed the channel', false); };
    channel.on('data', onIn);
    channel.on('close', onChannelClose);
    child.stdout.on('data', onOut);
    child.stdin.on('error', () => undefined);
    child.stdout.on('error', () => undefined);
    child.stderr.on('error', () => undefined);
    channel.pipe(child.stdin);
    child.stdout.pipe(channel, { end: false });
    child.stderr.pipe(channel.stderr, { end: false });
    let spawnError: string | undefined;
    child.on('error', (e) => { spawnError = `cannot run ${p.program}: ${e.message}`; });
    child.on('close', (code, signal) => {
      if (killTimer) clearTimeout(killTimer);
      channel.unpipe(child.stdin);
      channel.off('data', onIn);
      channel.off('close', onChannelClose);
      const error = limitError ?? spawnError ?? (code === 0 ? undefined : `${p.program} exited with ${code ?? signal ?? 'error'}`);
      resolve({ status: code === 0 && limitError === undefined ? 0 : (code && code > 0 ? code : 1), error, bytesIn, bytesOut });
    });
  });
}

/** As SFTPGo: the user's own uid/gid when the server can switch to them (it runs as root). */
function runAs(scope: SystemCommandScope): { uid?: number; gid?: number } {
  return typeof process.getuid === 'function' && process.getuid() === 0 ? scope.owner ?? {} : {};
}

/** Never throws: refusals and failures come back as a status and an error for the logs. */
export async function runSystemCommand(channel: ServerChannel, ops: FileOps, name: string, args: readonly string[], gitProtocol?: string): Promise<SystemCommandResult> {
  let home: string | undefined;
  let vpath = '';
  try {
    home = await fsp.mkdtemp(path.join(os.tmpdir(), 'sftpgo-sshcmd-'));
    const p = await plan(ops, name, args, home, gitProtocol);
    vpath = p.scope.vpath;
    const ids = runAs(p.scope);
    // the program's HOME must be its own when it runs as the user's account
    if (ids.uid !== undefined || ids.gid !== undefined) await fsp.chown(home, ids.uid ?? 0, ids.gid ?? 0);
    const r = await execute(channel, ops, p);
    await p.scope.finish(r.bytesIn, r.bytesOut);
    return { ...r, vpath, fsPath: p.scope.fsPath };
  } catch (e) {
    const msg = e instanceof Error ? e.message : String(e);
    channel.resume();
    await new Promise<void>((resolve) => channel.stderr.write(`${name}: ${msg}\n`, () => resolve()));
    return { status: 1, vpath, error: msg, bytesIn: 0, bytesOut: 0 };
  } finally {
    if (home !== undefined) await fsp.rm(home, { recursive: true, force: true }).catch(() => undefined);
  }
}
