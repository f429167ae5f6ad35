/**
 * Channels of one authenticated SSH connection. Only `subsystem sftp` and
 * `exec` (built-in SSH commands and SCP) are served; shell, pty, X11, agent
 * forwarding, env and port forwarding are refused. Like SFTPGo, every served
 * channel is its own connection in the connection manager (protocol SFTP, SCP
 * or SSH), which enforces the user's max_sessions and can disconnect it.
 */
import type { Connection, ServerChannel, Session } from 'ssh2';
import type { ServerContext } from '../common/context';
import type { FileOps, Protocol } from '../common/types';
import type { User } from '../dataprovider/models';
import { serveSftp } from './sftp/session';
import { splitCommandLine } from './cmdline';
import { parseScpArgs, runScp } from './scp';
import type { ScpArgs } from './scp';
import { isSystemCommand, runSshCommand } from './sshcmd';
import { isGitProtocolValue } from './sshcmd-git';
import { acceptLentChunks } from './ssh2-lent-reads';
import { pacePlainWrites } from './channel-pacing';

const SENDER = 'sftpd';

export interface ClientSessionOptions {
  ctx: ServerContext;
  client: Connection;
  user: User;
  /** the SSH connection id; channel ids are `<PROTOCOL>_<id>_<n>` */
  connectionId: string;
  remoteAddr: string;
  localAddr: string;
  clientVersion: string;
  sshCommands: Set<string>;
}

export interface ClientSessions {
  /** channels currently registered with the connection manager */
  readonly active: number;
}

function msgOf(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

/** Ends an exec channel with an exit status (exit-status must precede EOF/close). */
function finishExec(ch: ServerChannel, status: number): void {
  try {
    ch.exit(status);
    ch.end();
  } catch {
    // the client already closed the channel: nothing left to tell it
  }
}

export function attachSessions(o: ClientSessionOptions): ClientSessions {
  const { ctx, client, user } = o;
  const registered = new Set<string>();
  let counter = 0;
  const log = (level: 'debug' | 'info' | 'warn', msg: string, id = o.connectionId): void =>
    ctx.logger[level](SENDER, msg, { connection_id: id });

  let clientClosed = false;
  const register = async (protocol: Protocol): Promise<FileOps> => {
    // nothing could unregister a session added after the client went away
    if (clientClosed) throw new Error('the client disconnected');
    const id = `${protocol}_${o.connectionId}_${++counter}`;
    const ops = ctx.connections.add({
      protocol, user, id, remoteAddr: o.remoteAddr, localAddr: o.localAddr, clientVersion: o.clientVersion,
      session: {
        disconnect: (reason: string) => {
          log('info', `disconnecting: ${reason}`, id);
          client.end();
        },
      },
    });
    registered.add(ops.id);
    try {
      // SFTPGo creates the home (and folder roots) when a session starts
      await ops.ensureRoots?.();
    } catch (e) {
      unregister(ops.id);
      throw e;
    }
    return ops;
  };
  const unregister = (id: string): void => {
    if (!registered.delete(id)) return;
    ctx.connections.remove(id).catch((e: unknown) => log('warn', `unable to remove connection: ${msgOf(e)}`, id));
  };
  client.once('close', () => {
    clientClosed = true;
    for (const id of [...registered]) unregister(id);
  });

  const refuseExec = (accept: () => ServerChannel | undefined, message: string): void => {
    const ch = accept();
    if (!ch) return;
    ch.on('error', () => undefined);
    ch.resume();
    ch.stderr.write(`${message}\n`);
    finishExec(ch, 1);
  };

  const onExec = (accept: () => ServerChannel | undefined, command: string, gitProtocol?: string): void => {
    let words: string[];
    try {
      words = splitCommandLine(command);
    } catch (e) {
      refuseExec(accept, `invalid command: ${msgOf(e)}`);
      return;
    }
    const name = words[0] ?? '';
    if (!o.sshCommands.has(name)) {
      log('debug', `refused SSH command ${JSON.stringify(command.slice(0, 200))}`);
      refuseExec(accept, `command ${JSON.stringify(name)} is not supported or not enabled`);
      return;
    }
    let scpArgs: ScpArgs | undefined;
    if (name === 'scp') {
      try {
        scpArgs = parseScpArgs(words.slice(1));
      } catch (e) {
        refuseExec(accept, msgOf(e));
        return;
      }
    }
    // accept before any await: a client may send EOF right after the request
    // (empty stdin) and ssh2 then refuses a late accept()
    const ch = accept();
    if (!ch) return;
    ch.on('error', (e: Error) => log('debug', `channel error: ${e.message}`));
    ch.stderr.on('error', () => undefined);
    // SCP sources and command output (rsync, git) go at the client's pace (channel-pacing.ts)
    pacePlainWrites(ch);
    if (!scpArgs && !isSystemCommand(name)) ch.resume();
    void (async () => {
      let ops: FileOps;
      try {
        ops = await register(scpArgs ? 'SCP' : 'SSH');
      } catch (e) {
        log('info', `exec refused for user ${user.username}: ${msgOf(e)}`);
        ch.resume();
        ch.stderr.write(`${msgOf(e)}\n`);
        finishExec(ch, 1);
        return;
      }
      ch.on('close', () => unregister(ops.id));
      let status: number;
      if (scpArgs) {
        ops.setCommand(command);
        status = await runScp(ch, ops, ctx.logger, scpArgs);
        ctx.metrics.sshCommand(status !== 0);
      } else {
        status = await runSshCommand({ ctx, ops, channel: ch, name, args: words.slice(1), commandLine: command,
          localAddr: o.localAddr, remoteAddr: o.remoteAddr, gitProtocol });
      }
      finishExec(ch, status);
      unregister(ops.id);
    })();
  };

  const onSftp = (accept: () => ServerChannel | undefined): void => {
    const ch = accept();
    if (!ch) return;
    ch.on('error', (e: Error) => log('debug', `channel error: ${e.message}`));
    ch.stderr.on('error', () => undefined);
    void (async () => {
      let ops: FileOps;
      try {
        ops = await register('SFTP');
      } catch (e) {
        log('info', `SFTP session refused for user ${user.username}: ${msgOf(e)}`);
        finishExec(ch, 1);
        return;
      }
      ch.on('close', () => unregister(ops.id));
      // A session paused for backpressure never sees the channel's end if the client
      // vanishes: the SSH connection closing ends it (and aborts open uploads).
      const gone = new AbortController();
      const onClientClose = (): void => gone.abort();
      client.once('close', onClientClose);
      // the SFTP session copies what it keeps of lent socket reads (sftp/framer.ts)
      acceptLentChunks(ch);
      try {
        await serveSftp(ch, ops, {
          signal: gone.signal,
          logger: ctx.logger,
          connectionId: ops.id,
          homeDirectory: user.filters?.start_directory || '/',
          beforeEnd: (clean) => { try { ch.exit(clean ? 0 : 1); } catch { /* channel gone */ } },
        });
      } catch (e) {
        log('warn', `SFTP session failed: ${msgOf(e)}`, ops.id);
      }
      client.removeListener('close', onClientClose);
      unregister(ops.id);
    })();
  };

  client.on('session', (acceptSession: () => Session, rejectSession: () => void) => {
    if (ctx.connections.isShuttingDown) { rejectSession(); return; }
    const session = acceptSession();
    session.on('error', (e: Error) => log('debug', `session error: ${e.message}`));
    session.on('subsystem', (accept, reject, info) => {
      if (info.name !== 'sftp') {
        log('debug', `refused subsystem ${JSON.stringify(info.name)}`);
        reject?.();
        return;
      }
      onSftp(accept as () => ServerChannel | undefined);
    });
    // env requests: only GIT_PROTOCOL is kept (git's protocol v2), checked when a git command uses it
    let gitProtocol: string | undefined;
    session.on('env', (accept, reject, info) => {
      if (info.key === 'GIT_PROTOCOL' && isGitProtocolValue(info.val)) {
        gitProtocol = info.val;
        accept?.();
        return;
      }
      reject?.();
    });
    session.on('exec', (accept, _reject, info) => onExec(accept as () => ServerChannel | undefined, info.command, gitProtocol));
    for (const ev of ['pty', 'shell', 'x11', 'auth-agent', 'signal'] as const) {
      session.on(ev, (_accept: unknown, reject?: () => void) => {
        log('debug', `refused "${ev}" request from user ${user.username}`);
        reject?.();
      });
    }
  });

  return { get active() { return registered.size; } };
}
