/**
 * Runs the OpenSSH client binaries against the in-process server. Always
 * asynchronous (the server lives in this process: a sync spawn would
 * deadlock) and always bounded by a kill timer.
 */
import { spawn } from 'node:child_process';
import { promises as fsp } from 'node:fs';
import path from 'node:path';
import { startSftpServer, type TestSftpServer } from '../../support/server';
import { writeKeyPair, type TestKeyPair } from '../../support/sshkeys';

export interface ProcResult { status: number | null; stdout: string; stderr: string }

export function run(cmd: string, args: string[], opts: { env?: NodeJS.ProcessEnv; input?: string; timeoutMs?: number } = {}): Promise<ProcResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { env: opts.env ?? process.env, stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => { stdout += d.toString(); });
    child.stderr.on('data', (d: Buffer) => { stderr += d.toString(); });
    child.stdin.on('error', () => undefined);
    child.stdin.end(opts.input ?? '');
    const timer = setTimeout(() => child.kill('SIGKILL'), opts.timeoutMs ?? 60_000);
    child.on('error', (e) => { clearTimeout(timer); reject(e); });
    child.on('close', (status) => { clearTimeout(timer); resolve({ status, stdout, stderr }); });
  });
}

const COMMON = ['-F', '/dev/null', '-o', 'StrictHostKeyChecking=no', '-o', 'UserKnownHostsFile=/dev/null',
  '-o', 'LogLevel=ERROR', '-o', 'ConnectTimeout=30'];

export function keyOpts(key: string): string[] {
  return [...COMMON, '-o', 'IdentitiesOnly=yes', '-o', 'BatchMode=yes', '-o', 'PasswordAuthentication=no',
    '-o', 'KbdInteractiveAuthentication=no', '-i', key];
}

/** Options + env for password login through a temp SSH_ASKPASS script. */
export async function passwordAuth(dir: string, password: string, method: 'password' | 'keyboard-interactive' = 'password'):
Promise<{ opts: string[]; env: NodeJS.ProcessEnv }> {
  const script = path.join(dir, `askpass-${Math.random().toString(36).slice(2)}.sh`);
  await fsp.writeFile(script, `#!/bin/sh\nprintf '%s\\n' '${password.replace(/'/g, "'\\''")}'\n`, { mode: 0o700 });
  return {
    opts: [...COMMON, '-o', 'PubkeyAuthentication=no', '-o', `PreferredAuthentications=${method}`,
      '-o', 'NumberOfPasswordPrompts=1', '-o', 'IdentitiesOnly=yes'],
    env: { ...process.env, SSH_ASKPASS: script, SSH_ASKPASS_REQUIRE: 'force', DISPLAY: process.env.DISPLAY ?? ':0' },
  };
}

/** An in-process server with one key-authenticated user whose home exists, and a local directory for the client's files. */
export interface OpenSshFixture { srv: TestSftpServer; key: TestKeyPair; local: string }

export async function startOpenSshFixture(username: string): Promise<OpenSshFixture> {
  const srv = await startSftpServer({ driver: 'sqlite' });
  const key = await writeKeyPair(srv.configDir, 'k', 'ed25519');
  await srv.createUser({ username, public_keys: [key.publicKey] });
  await fsp.mkdir(srv.homeOf(username), { recursive: true });
  const local = path.join(srv.configDir, 'local');
  await fsp.mkdir(local, { recursive: true });
  return { srv, key, local };
}
