/**
 * The whole application (service/app.ts startApp) with SFTP, FTP and WebDAV
 * on free 127.0.0.1 ports and a memory provider in a temp config dir, for
 * driving hooks with real clients: OpenSSH sftp (key or password through
 * sshpass), lftp, curl. Hook programs are written into the config dir by the
 * test; HTTP hook endpoints are servers in the test process (see
 * test/unit/hooks/support.ts).
 */
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { loadConfig } from '../../../src/config';
import type { AppConfig, RuntimeOptions } from '../../../src/config/types';
import { startApp, type App } from '../../../src/service/app';
import { freePort, freePortRange } from '../../support/net';
import { writeKeyPair, type TestKeyPair } from '../../support/sshkeys';
import { keyOpts, run, type ProcResult } from '../sftpd/openssh';

const exec = promisify(execFile);

/**
 * A keyboard-interactive client (Debian's python3-paramiko): answers each
 * prompt from a JSON table, then lists the home over SFTP. Prints one JSON
 * line: {ok, asked: [{instruction, prompts, echos}], names?, error?}.
 */
const PARAMIKO_CLIENT = `
import json, sys, paramiko
host, port, user, table = sys.argv[1], int(sys.argv[2]), sys.argv[3], json.loads(sys.argv[4])
asked = []
def handler(title, instructions, prompts):
    asked.append({'instruction': instructions, 'prompts': [p for p, _ in prompts], 'echos': [bool(e) for _, e in prompts]})
    return [table.get(p, '') for p, _ in prompts]
t = paramiko.Transport((host, port))
try:
    t.start_client(timeout=30)
    t.auth_interactive(user, handler)
    sftp = paramiko.SFTPClient.from_transport(t)
    print(json.dumps({'ok': True, 'asked': asked, 'names': sorted(sftp.listdir('.'))}))
except Exception as e:
    print(json.dumps({'ok': False, 'asked': asked, 'error': type(e).__name__ + ': ' + str(e)}))
finally:
    t.close()
`;

export interface KiOutcome { ok: boolean; asked: { instruction: string; prompts: string[]; echos: boolean[] }[]; names?: string[]; error?: string }

const SSH_COMMON = ['-F', '/dev/null', '-o', 'StrictHostKeyChecking=no', '-o', 'UserKnownHostsFile=/dev/null',
  '-o', 'LogLevel=ERROR', '-o', 'ConnectTimeout=30'];

export interface HooksEnv {
  app: App;
  dir: string;
  key: TestKeyPair;
  ports: { sftp: number; ftp: number; dav: number };
  /** `sftp -b -` with the test key */
  sftpKey(user: string, ...cmds: string[]): Promise<ProcResult>;
  /** `sftp -b -` with a password typed by sshpass (method password or keyboard-interactive) */
  sftpPassword(user: string, password: string, cmds: string[], method?: 'password' | 'keyboard-interactive'): Promise<ProcResult>;
  /** key first, then the password (publickey+password users) */
  sftpKeyAndPassword(user: string, password: string, ...cmds: string[]): Promise<ProcResult>;
  lftp(user: string, password: string, cmds: string): Promise<ProcResult>;
  /** keyboard-interactive login with paramiko, answering from `answers` (prompt -> answer) */
  paramikoKi(user: string, answers: Record<string, string>): Promise<KiOutcome>;
  /** curl against WebDAV; returns the HTTP status */
  dav(user: string, password: string, method: string, path: string): Promise<number>;
  logText(): Promise<string>;
  stop(): Promise<void>;
}

export async function startHooksEnv(configure: (c: AppConfig, dir: string) => void): Promise<HooksEnv> {
  const dir = await mkdtemp(join(tmpdir(), 'hooks-e2e-'));
  try {
    await exec('ssh-keygen', ['-q', '-t', 'ecdsa', '-N', '', '-C', 'host', '-f', join(dir, 'host_ecdsa')]);
    const key = await writeKeyPair(dir, 'client', 'ecdsa');
    const ports = { sftp: await freePort(), ftp: await freePort(), dav: await freePort() };
    const config = loadConfig({ configDir: dir, env: {} });
    config.sftpd.bindings = [{ ...config.sftpd.bindings[0], port: ports.sftp, address: '127.0.0.1', apply_proxy_config: false }];
    config.sftpd.host_keys = [join(dir, 'host_ecdsa')];
    config.ftpd.bindings = [{ ...config.ftpd.bindings[0], port: ports.ftp, address: '127.0.0.1' }];
    config.ftpd.passive_port_range = await freePortRange(10);
    config.webdavd.bindings = [{ ...config.webdavd.bindings[0], port: ports.dav, address: '127.0.0.1' }];
    config.httpd.bindings = [];
    config.data_provider.driver = 'memory';
    config.data_provider.name = '';
    config.data_provider.password_hashing.bcrypt_options.cost = 4;
    config.common.idle_timeout = 0;
    config.http.retry_wait_min = 0;
    config.http.retry_wait_max = 0;
    configure(config, dir);
    const runtime: RuntimeOptions = {
      configDir: dir, configFile: '', logFilePath: join(dir, 'sftpgo.log'), logLevel: 'debug', logMaxSize: 10, logMaxBackups: 0,
      logMaxAge: 0, logCompress: false, logUTCTime: true, graceTime: 0, loadDataFrom: '', loadDataMode: 0,
      loadDataClean: false, loadDataQuotaScan: 0,
    };
    const app = await startApp({ runtime, config });
    const sshpass = (password: string, args: string[], input: string): Promise<ProcResult> =>
      run('sshpass', ['-e', 'sftp', ...args], { env: { ...process.env, SSHPASS: password }, input });
    return {
      app, dir, key, ports,
      sftpKey: (user, ...cmds) => run('sftp', ['-P', String(ports.sftp), ...keyOpts(key.privateKeyPath), '-b', '-', `${user}@127.0.0.1`],
        { input: cmds.join('\n') + '\n' }),
      sftpPassword: (user, password, cmds, method = 'password') => sshpass(password, [
        '-P', String(ports.sftp), ...SSH_COMMON, '-o', 'PubkeyAuthentication=no', '-o', `PreferredAuthentications=${method}`,
        '-o', 'NumberOfPasswordPrompts=1', '-o', 'BatchMode=no', '-b', '-', `${user}@127.0.0.1`,
      ], cmds.join('\n') + '\n'),
      sftpKeyAndPassword: (user, password, ...cmds) => sshpass(password, [
        '-P', String(ports.sftp), ...SSH_COMMON, '-o', 'IdentitiesOnly=yes', '-i', key.privateKeyPath,
        '-o', 'PreferredAuthentications=publickey,password', '-o', 'NumberOfPasswordPrompts=1', '-o', 'BatchMode=no', '-b', '-', `${user}@127.0.0.1`,
      ], cmds.join('\n') + '\n'),
      lftp: (user, password, cmds) => run('lftp', ['-c', [
        'set cmd:fail-exit yes', 'set net:max-retries 1', 'set net:timeout 20', 'set ftp:ssl-allow no',
        `open -u "${user}","${password}" -p ${ports.ftp} 127.0.0.1`, cmds,
      ].join('; ')]),
      async paramikoKi(user, answers) {
        const r = await run('/usr/bin/python3', ['-c', PARAMIKO_CLIENT, '127.0.0.1', String(ports.sftp), user, JSON.stringify(answers)]);
        const line = r.stdout.trim().split('\n').pop() ?? '';
        try {
          return JSON.parse(line) as KiOutcome;
        } catch {
          throw new Error(`paramiko client failed (${r.status}): ${r.stderr}`);
        }
      },
      async dav(user, password, method, path) {
        const r = await run('curl', ['-s', '-o', '/dev/null', '-w', '%{http_code}', '-X', method, '-u', `${user}:${password}`,
          `http://127.0.0.1:${ports.dav}${path}`]);
        return Number(r.stdout.trim());
      },
      logText: async () => {
        await app.ctx.logger.flush();
        return readFile(join(dir, 'sftpgo.log'), 'utf8').catch(() => '');
      },
      async stop() {
        await app.stop();
        await rm(dir, { recursive: true, force: true });
      },
    };
  } catch (e) {
    await rm(dir, { recursive: true, force: true });
    throw e;
  }
}
