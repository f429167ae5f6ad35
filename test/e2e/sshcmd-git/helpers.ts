/** Shared set-up for the git/rsync SSH command tests: a server with the system commands enabled, clients' ssh options. */
import { promises as fsp } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { startSftpServer, type TestSftpServer } from '../../support/server';
import { writeKeyPair, type TestKeyPair } from '../../support/sshkeys';
import { keyOpts, run, type ProcResult } from '../sftpd/openssh';

export { run, type ProcResult };

export interface SystemCmdEnv {
  srv: TestSftpServer;
  key: TestKeyPair;
  /** temp dir beside the server's: client work trees and canaries outside every home */
  outside: string;
  /** `ssh ...` command line usable as GIT_SSH_COMMAND or rsync -e */
  sshCommand: string;
  stop(): Promise<void>;
}

export async function startSystemCmdServer(configure?: Parameters<typeof startSftpServer>[0]): Promise<SystemCmdEnv> {
  const srv = await startSftpServer({
    ...configure,
    configure: (c) => {
      c.sftpd.enabled_ssh_commands = ['git-receive-pack', 'git-upload-pack', 'git-upload-archive', 'rsync', 'md5sum'];
      c.data_provider.track_quota = 1;
      configure?.configure?.(c);
    },
  });
  const outside = await fsp.mkdtemp(path.join(os.tmpdir(), 'sftpgo-sysc-outside-'));
  const key = await writeKeyPair(outside, 'client_key');
  // key paths come from mkdtemp: no spaces, safe to join into one command line
  const sshCommand = ['ssh', '-p', String(srv.port), ...keyOpts(key.privateKeyPath)].join(' ');
  return {
    srv, key, outside, sshCommand,
    async stop() {
      await srv.stop();
      await fsp.rm(outside, { recursive: true, force: true });
    },
  };
}

/** git as a client: no user/system config, identity fixed, ssh through our server. */
export function gitClient(env: SystemCmdEnv, home: string): (args: string[], cwd?: string) => Promise<ProcResult> {
  const vars: NodeJS.ProcessEnv = {
    PATH: process.env.PATH, HOME: home, GIT_SSH_COMMAND: env.sshCommand, GIT_CONFIG_NOSYSTEM: '1',
    GIT_AUTHOR_NAME: 't', GIT_AUTHOR_EMAIL: 't@example.com', GIT_COMMITTER_NAME: 't', GIT_COMMITTER_EMAIL: 't@example.com',
    GIT_TERMINAL_PROMPT: '0',
  };
  return (args, cwd) => run('git', cwd ? ['-C', cwd, ...args] : args, { env: vars, timeoutMs: 120_000 });
}

export function rsyncClient(env: SystemCmdEnv): (args: string[]) => Promise<ProcResult> {
  return (args) => run('rsync', ['-e', env.sshCommand, ...args], { env: { PATH: process.env.PATH, HOME: env.outside }, timeoutMs: 120_000 });
}

/** Every file (relative path -> content) under `dir`, symlinks as "-> target". */
export async function snapshot(dir: string): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  const walk = async (d: string, rel: string): Promise<void> => {
    for (const e of await fsp.readdir(d, { withFileTypes: true })) {
      const full = path.join(d, e.name);
      const r = rel ? `${rel}/${e.name}` : e.name;
      if (e.isSymbolicLink()) out[r] = `-> ${await fsp.readlink(full)}`;
      else if (e.isDirectory()) await walk(full, r);
      else out[r] = await fsp.readFile(full, 'utf8');
    }
  };
  await walk(dir, '');
  return out;
}
