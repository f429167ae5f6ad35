/**
 * The servers the bench compares: sftpgo-ts (SFTP, FTP/FTPS, WebDAV in one
 * process), OpenSSH sshd with internal-sftp, vsftpd (anonymous upload into a
 * temp dir, explicit TLS allowed) and `rclone serve webdav`. All listen on
 * free loopback ports with temporary configs; every process is tracked so
 * killAll() takes it down.
 */
import type { ChildProcess } from 'node:child_process';
import { chmodSync, chownSync, mkdirSync, openSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { freePort, waitForPort } from '../support/net';
import { childPids, freePortRange, sh, track } from './util';
import { NODE_FLAGS } from '../../src/cmd/node-flags';

export const PASSWORD = 'bench-Pw-1';
const root = join(__dirname, '..', '..', '..');

/** One server as the clients see it. */
export interface Endpoint {
  name: string;
  port: number;
  user: string;
  password: string;
  /** where the server stores the user's files */
  home: string;
  /** server processes whose RSS counts */
  pids: () => number[];
  /** the server's listening process: its CPU and page faults, with those of reaped children, are the server's cost */
  rootPid: () => number;
  /** remote directory prefix for bench files ('' = the login directory) */
  prefix?: string;
}

export interface Ours {
  proc: ChildProcess;
  httpPort: number;
  sftp: Endpoint;
  ftp: Endpoint;
  webdav: Endpoint;
  /** the REST API binding (user API) */
  http: Endpoint;
}

/** A self-signed certificate for both FTPS servers. */
export function makeCert(dir: string): { cert: string; key: string } {
  const cert = join(dir, 'cert.pem');
  const key = join(dir, 'key.pem');
  sh('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '2', '-subj', '/CN=127.0.0.1',
    '-keyout', key, '-out', cert]);
  return { cert, key };
}

export async function startOpenSsh(dir: string, pubKey: string): Promise<Endpoint> {
  const port = await freePort();
  mkdirSync('/run/sshd', { recursive: true });
  const hostKey = join(dir, 'ssh_host_ed25519_key');
  sh('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', hostKey]);
  const authKeys = join(dir, 'authorized_keys');
  writeFileSync(authKeys, pubKey);
  chmodSync(authKeys, 0o600);
  const home = join(dir, 'openssh-home');
  mkdirSync(home);
  const cfg = join(dir, 'sshd_config');
  writeFileSync(cfg, [
    `Port ${port}`, 'ListenAddress 127.0.0.1', `HostKey ${hostKey}`, `AuthorizedKeysFile ${authKeys}`,
    'StrictModes no', 'UsePAM no', 'PasswordAuthentication no', 'KbdInteractiveAuthentication no',
    'PermitRootLogin prohibit-password', `PidFile ${join(dir, 'sshd.pid')}`, 'MaxSessions 1000', 'MaxStartups 1000',
    'UseDNS no', `Subsystem sftp internal-sftp -d ${home}`, 'LogLevel ERROR',
  ].join('\n') + '\n');
  // its log goes to a file: waitForPort's probe makes it print a harmless kex error
  const log = openSync(join(dir, 'sshd.log'), 'a');
  const proc = track('/usr/sbin/sshd', ['-D', '-e', '-f', cfg], { stdio: ['ignore', 'ignore', log] });
  await waitForPort(port);
  const user = process.env.USER ?? 'root';
  return { name: 'OpenSSH', port, user, password: '', home, pids: () => childPids(proc.pid ?? 0), rootPid: () => proc.pid ?? 0 };
}

/** A second instance (another provider) takes its own name, config dir and extra env. */
/** `userFilters` goes into the bench user's filters (hooks rows). */
/** `root` runs another checkout's build (its dist/ and sftpgo.json): BENCH_B's side of an A/B run. */
export interface OursOptions {
  name?: string; env?: Record<string, string>; userFilters?: Record<string, unknown>; root?: string; wrapper?: string[];
  /** node flags after NODE_FLAGS and BENCH_SERVER_FLAGS (a V8 flag given twice: the last one counts) */
  flags?: string[];
  /** how long to wait for the listeners (a server under valgrind starts slowly) */
  startTimeoutMs?: number;
}

export async function startOurs(dir: string, pubKey: string, tls: { cert: string; key: string }, opts: OursOptions = {}): Promise<Ours> {
  const name = opts.name ?? 'sftpgo-ts';
  const [sftpPort, httpPort, ftpPort, davPort] = [await freePort(), await freePort(), await freePort(), await freePort()];
  const pasv = await freePortRange(20);
  const configDir = join(dir, name === 'sftpgo-ts' ? 'sftpgo' : name);
  mkdirSync(configDir);
  const env = {
    ...process.env,
    SFTPGO_SFTPD__BINDINGS__0__PORT: String(sftpPort),
    SFTPGO_SFTPD__BINDINGS__0__ADDRESS: '127.0.0.1',
    SFTPGO_HTTPD__BINDINGS__0__PORT: String(httpPort),
    SFTPGO_HTTPD__BINDINGS__0__ADDRESS: '127.0.0.1',
    SFTPGO_FTPD__BINDINGS__0__PORT: String(ftpPort),
    SFTPGO_FTPD__BINDINGS__0__ADDRESS: '127.0.0.1',
    SFTPGO_FTPD__BINDINGS__0__CERTIFICATE_FILE: tls.cert,
    SFTPGO_FTPD__BINDINGS__0__CERTIFICATE_KEY_FILE: tls.key,
    SFTPGO_FTPD__PASSIVE_PORT_RANGE__START: String(pasv),
    SFTPGO_FTPD__PASSIVE_PORT_RANGE__END: String(pasv + 19),
    SFTPGO_WEBDAVD__BINDINGS__0__PORT: String(davPort),
    SFTPGO_WEBDAVD__BINDINGS__0__ADDRESS: '127.0.0.1',
    SFTPGO_DATA_PROVIDER__CREATE_DEFAULT_ADMIN: 'true',
    SFTPGO_DEFAULT_ADMIN_USERNAME: 'admin',
    SFTPGO_DEFAULT_ADMIN_PASSWORD: 'bench-admin-pw',
    SFTPGO_COMMON__MAX_PER_HOST_CONNECTIONS: '1000',
    SFTPGO_LOG_LEVEL: 'info',
    ...opts.env,
  };
  // BENCH_PROF=dir: CPU profile of our server, written when it exits on SIGTERM
  const prof = process.env.BENCH_PROF ? ['--cpu-prof', '--cpu-prof-dir', process.env.BENCH_PROF] : [];
  // BENCH_SERVER_FLAGS='--trace-gc' with BENCH_SERVER_STDOUT=file: what V8 does during the rows
  const extra = (process.env.BENCH_SERVER_FLAGS ?? '').split(/\s+/).filter((f) => f !== '');
  const stdout = process.env.BENCH_SERVER_STDOUT ? openSync(process.env.BENCH_SERVER_STDOUT, 'a') : 'ignore';
  const base = opts.root ?? root;
  // opts.wrapper: a command the server runs under (probe-instructions: valgrind --tool=callgrind)
  const [cmd, ...pre] = [...(opts.wrapper ?? []), process.execPath];
  const proc = track(cmd!, [...pre, ...NODE_FLAGS, ...extra, ...(opts.flags ?? []), ...prof, join(base, 'dist/src/cmd/main.js'), 'serve',
    '--config-dir', configDir, '--config-file', join(base, 'sftpgo.json'), '--log-file-path', join(dir, `${name}.log`)],
  { env, stdio: ['ignore', stdout, 'inherit'] });
  for (const p of [sftpPort, httpPort, ftpPort, davPort]) await waitForPort(p, '127.0.0.1', opts.startTimeoutMs);
  const api = `http://127.0.0.1:${httpPort}/api/v2`;
  const basic = Buffer.from('admin:bench-admin-pw').toString('base64');
  const tok = await (await fetch(`${api}/token`, { headers: { authorization: `Basic ${basic}` } })).json() as { access_token: string };
  const home = join(dir, `${name}-home`);
  const res = await fetch(`${api}/users`, {
    method: 'POST',
    headers: { authorization: `Bearer ${tok.access_token}`, 'content-type': 'application/json' },
    body: JSON.stringify({
      status: 1, username: 'bench', password: PASSWORD, home_dir: home, public_keys: [pubKey.trim()],
      permissions: { '/': ['*'] }, ...(opts.userFilters ? { filters: opts.userFilters } : {}),
    }),
  });
  if (res.status !== 201) throw new Error(`cannot create the bench user: ${res.status} ${await res.text()}`);
  mkdirSync(home, { recursive: true });
  const ep = (name: string, port: number): Endpoint =>
    ({ name, port, user: 'bench', password: PASSWORD, home, pids: () => [proc.pid ?? 0], rootPid: () => proc.pid ?? 0 });
  return { proc, httpPort, sftp: ep(name, sftpPort), ftp: ep(name, ftpPort), webdav: ep(name, davPort), http: ep(name, httpPort) };
}

/**
 * vsftpd refuses root logins (/etc/ftpusers) and a writable chroot, so it
 * serves anonymous users from a root-owned dir with a world-writable `up`
 * subdir; the bench transfers into `up/`.
 */
export async function startVsftpd(dir: string, tls: { cert: string; key: string }): Promise<Endpoint> {
  const port = await freePort();
  const pasv = await freePortRange(20);
  const anonRoot = join(dir, 'vsftpd-root');
  const home = join(anonRoot, 'up');
  mkdirSync(home, { recursive: true });
  chmodSync(anonRoot, 0o755);
  // owned by the ftp user so the anonymous session can write and read back
  const ids = sh('id', ['ftp']);
  const uid = Number(/uid=(\d+)/.exec(ids)?.[1]);
  const gid = Number(/gid=(\d+)/.exec(ids)?.[1]);
  chownSync(home, uid, gid);
  mkdirSync('/var/run/vsftpd/empty', { recursive: true });
  const cfg = join(dir, 'vsftpd.conf');
  writeFileSync(cfg, [
    'listen=YES', 'listen_ipv6=NO', 'listen_address=127.0.0.1', `listen_port=${port}`, 'background=NO',
    'anonymous_enable=YES', 'local_enable=NO', 'write_enable=YES', `anon_root=${anonRoot}`,
    'anon_upload_enable=YES', 'anon_mkdir_write_enable=YES', 'anon_other_write_enable=YES',
    'anon_world_readable_only=NO', 'no_anon_password=YES', 'anon_umask=022',
    'pasv_enable=YES', `pasv_min_port=${pasv}`, `pasv_max_port=${pasv + 19}`, 'pasv_address=127.0.0.1',
    'seccomp_sandbox=NO', 'xferlog_enable=NO', 'max_clients=0', 'max_per_ip=0', 'use_localtime=NO',
    'ssl_enable=YES', 'allow_anon_ssl=YES', 'force_anon_logins_ssl=NO', 'force_anon_data_ssl=NO',
    'force_local_logins_ssl=NO', 'force_local_data_ssl=NO', 'require_ssl_reuse=NO', 'ssl_ciphers=HIGH',
    `rsa_cert_file=${tls.cert}`, `rsa_private_key_file=${tls.key}`,
    'secure_chroot_dir=/var/run/vsftpd/empty',
  ].join('\n') + '\n');
  const proc = track('/usr/sbin/vsftpd', [cfg], { stdio: ['ignore', 'ignore', 'inherit'] });
  await waitForPort(port);
  return { name: 'vsftpd', port, user: 'anonymous', password: 'bench@', home, prefix: 'up/',
    pids: () => [proc.pid ?? 0, ...childPids(proc.pid ?? 0)], rootPid: () => proc.pid ?? 0 };
}

/** `rclone serve webdav` (or `serve http`, read-only) on `home` (default: a new rclone-home). */
export async function startRclone(dir: string, protocol: 'webdav' | 'http' = 'webdav', home = join(dir, 'rclone-home')): Promise<Endpoint> {
  const port = await freePort();
  mkdirSync(home, { recursive: true });
  // serve http lists what the webdav side wrote: no directory cache between them
  const cache = protocol === 'http' ? ['--dir-cache-time', '0s'] : [];
  const proc = track('/usr/bin/rclone', ['serve', protocol, home, '--addr', `127.0.0.1:${port}`,
    '--user', 'bench', '--pass', PASSWORD, '--config', '/dev/null', '-q', ...cache], { stdio: ['ignore', 'ignore', 'inherit'] });
  await waitForPort(port);
  return { name: 'rclone', port, user: 'bench', password: PASSWORD, home, pids: () => [proc.pid ?? 0], rootPid: () => proc.pid ?? 0 };
}
