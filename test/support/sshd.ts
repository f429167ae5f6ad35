/**
 * A real OpenSSH sshd for tests (as the bench runs it): a child process on a
 * free loopback port, key-only logins for the current user through a
 * private authorized_keys file, its own host key, everything in a temp dir
 * removed at stop. The SFTP subsystem is internal-sftp with no chroot: the
 * remote SFTP backend's own jail (prefix + realpath checks) is what is tested.
 */
import { spawn, spawnSync } from 'node:child_process';
import { once } from 'node:events';
import { createHash } from 'node:crypto';
import { mkdirSync, promises as fsp } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { freePort, waitForPort } from './net';
import { writeKeyPair, type TestKeyPair } from './sshkeys';

export interface TestSshd {
  port: number;
  user: string;
  /** a client key accepted by the server */
  key: TestKeyPair;
  /** the server's host key fingerprint, "SHA256:..." */
  fingerprint: string;
  /** a scratch dir the tests can use as remote storage (also the temp dir of the server) */
  dir: string;
  stop(): Promise<void>;
}

export async function startSshd(): Promise<TestSshd> {
  const dir = await fsp.realpath(await fsp.mkdtemp(path.join(tmpdir(), 'sshd-')));
  const port = await freePort();
  mkdirSync('/run/sshd', { recursive: true });
  const hostKey = path.join(dir, 'ssh_host_ed25519_key');
  const gen = spawnSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', hostKey], { stdio: 'ignore' });
  if (gen.status !== 0) throw new Error('ssh-keygen failed');
  const pub = (await fsp.readFile(`${hostKey}.pub`, 'utf8')).trim().split(/\s+/)[1];
  const fingerprint = `SHA256:${createHash('sha256').update(Buffer.from(pub, 'base64')).digest('base64').replace(/=+$/, '')}`;
  const key = await writeKeyPair(dir, 'client_key');
  const authKeys = path.join(dir, 'authorized_keys');
  await fsp.writeFile(authKeys, key.publicKey + '\n', { mode: 0o600 });
  const cfg = path.join(dir, 'sshd_config');
  await fsp.writeFile(cfg, [
    `Port ${port}`, 'ListenAddress 127.0.0.1', `HostKey ${hostKey}`, `AuthorizedKeysFile ${authKeys}`,
    'StrictModes no', 'UsePAM no', 'PasswordAuthentication no', 'KbdInteractiveAuthentication no',
    'PermitRootLogin prohibit-password', `PidFile ${path.join(dir, 'sshd.pid')}`, 'MaxStartups 100', 'UseDNS no',
    'Subsystem sftp internal-sftp', 'LogLevel ERROR',
  ].join('\n') + '\n');
  const log = await fsp.open(path.join(dir, 'sshd.log'), 'a');
  const child = spawn('/usr/sbin/sshd', ['-D', '-e', '-f', cfg], { stdio: ['ignore', 'ignore', log.fd] });
  await log.close();
  const stop = async (): Promise<void> => {
    if (child.exitCode === null && child.signalCode === null) {
      const exited = once(child, 'exit');
      child.kill('SIGTERM');
      const killer = setTimeout(() => child.kill('SIGKILL'), 10_000);
      await exited;
      clearTimeout(killer);
    }
    await fsp.rm(dir, { recursive: true, force: true });
  };
  try {
    await waitForPort(port);
  } catch (e) {
    await stop();
    throw e;
  }
  return { port, user: process.env.USER ?? 'root', key, fingerprint, dir, stop };
}
