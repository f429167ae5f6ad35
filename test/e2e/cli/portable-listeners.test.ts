/**
 * `sftpgo portable` with SFTPGo's listener and account flags, driven by real
 * clients: FTP with explicit TLS (--ftpd-port/--ftpd-cert/--ftpd-key, lftp
 * forcing TLS), WebDAV over HTTPS (--webdav-*, curl verifying the
 * certificate), SFTP (OpenSSH sftp) starting in --start-directory,
 * --denied-patterns refusing an upload on every protocol, --ssh-commands
 * limiting the SSH commands, --password-file; malformed values are usage
 * errors naming the flag.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { promises as fsp } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { lftp } from '../ftpd/harness';
import { freePortRange } from '../../support/net';
import { PORTABLE_ENV, startPortable, type RunningPortable } from '../../support/portable';
import { makePki, type TestPki } from '../../support/tlscerts';
import { passwordAuth, run } from '../sftpd/openssh';

describe('portable mode with FTP, WebDAV and the account flags', () => {
  let dir: string;
  let served: string;
  let pki: TestPki;
  let p: RunningPortable;
  let ports: { sftp: number; ftp: number; dav: number };

  before(async () => {
    dir = await fsp.mkdtemp(path.join(os.tmpdir(), 'portable-listeners-'));
    served = path.join(dir, 'served');
    await fsp.mkdir(path.join(served, 'sub'), { recursive: true });
    await fsp.writeFile(path.join(served, 'sub', 'hello.txt'), 'hello listeners\n');
    await fsp.writeFile(path.join(dir, 'pw.txt'), '  file-pw-123\n');
    pki = await makePki(path.join(dir, 'pki'), ['nobody']);
    const passive = await freePortRange(10);
    p = await startPortable({
      cwd: dir,
      env: { ...PORTABLE_ENV, SFTPGO_FTPD__PASSIVE_PORT_RANGE__START: String(passive.start), SFTPGO_FTPD__PASSIVE_PORT_RANGE__END: String(passive.end) },
      args: ['-d', served, '-u', 'porta', '--password-file', path.join(dir, 'pw.txt'), '-g', '*', '-L', 'info',
        '--start-directory', '/sub', '--denied-patterns', '/::*.exe,*.bat', '--ssh-commands', 'md5sum,sha256sum',
        '--ftpd-port', '0', '--ftpd-cert', pki.serverCert, '--ftpd-key', pki.serverKey,
        '--webdav-port', '0', '--webdav-cert', pki.serverCert, '--webdav-key', pki.serverKey],
    });
    const num = (re: RegExp): number => Number(re.exec(p.lines.join('\n'))?.[1]);
    ports = { sftp: num(/^Portable mode ready, SFTP port: (\d+)$/m), ftp: num(/^FTP port: (\d+) \(explicit TLS available\)$/m), dav: num(/^WebDAV URL: https:\/\/<your IP>:(\d+)\/$/m) };
    assert.ok(ports.sftp > 0 && ports.ftp > 0 && ports.dav > 0, p.lines.join('\n'));
  });
  after(async () => {
    await p?.stop();
    await fsp.rm(dir, { recursive: true, force: true });
  });

  test('the password comes from --password-file and is printed, trimmed', () => {
    assert.ok(p.lines.includes('Password: file-pw-123'), p.lines.join('\n'));
  });

  test('FTP over explicit TLS: upload and download; a denied pattern is refused', async () => {
    const local = path.join(dir, 'ftp-up.txt');
    await fsp.writeFile(local, 'over ftps\n');
    const tls = ['set ftp:ssl-force yes', 'set ftp:ssl-protect-data yes', `set ssl:ca-file ${pki.serverCert}`, 'set ssl:verify-certificate yes'];
    const r = await lftp(`ftp://127.0.0.1:${ports.ftp}`, 'porta', 'file-pw-123', [`put ${local} -o /ftp-up.txt`, 'cat /sub/hello.txt'], tls);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /hello listeners/);
    assert.equal(await fsp.readFile(path.join(served, 'ftp-up.txt'), 'utf8'), 'over ftps\n');
    const denied = await lftp(`ftp://127.0.0.1:${ports.ftp}`, 'porta', 'file-pw-123', [`put ${local} -o /evil.exe`], tls);
    assert.notEqual(denied.code, 0);
    await assert.rejects(fsp.stat(path.join(served, 'evil.exe')));
  });

  test('WebDAV over HTTPS with the given certificate: GET and PUT; a denied pattern is refused', async () => {
    const base = `https://127.0.0.1:${ports.dav}`;
    const curl = (args: string[]) => run('curl', ['-sS', '--cacert', pki.serverCert, '-u', 'porta:file-pw-123', '-w', '\n%{http_code}', ...args]);
    const get = await curl([`${base}/sub/hello.txt`]);
    assert.equal(get.status, 0, get.stderr);
    assert.match(get.stdout, /hello listeners\n\n200$/);
    const put = await curl(['-T', '-', `${base}/dav.txt`]);
    assert.match(put.stdout, /20[14]$/);
    const bad = await curl(['-T', '-', `${base}/tool.bat`]);
    assert.match(bad.stdout, /403$/);
    await assert.rejects(fsp.stat(path.join(served, 'tool.bat')));
  });

  test('SFTP starts in --start-directory; only the listed SSH commands run', async () => {
    const auth = await passwordAuth(dir, 'file-pw-123');
    const sftp = await run('sftp', ['-P', String(ports.sftp), ...auth.opts, '-o', 'BatchMode=no', 'porta@127.0.0.1'], { env: auth.env, input: 'pwd\nls\n' });
    assert.equal(sftp.status, 0, sftp.stderr);
    assert.match(sftp.stdout, /Remote working directory: \/sub/);
    assert.match(sftp.stdout, /hello\.txt/);
    const md5 = await run('ssh', ['-p', String(ports.sftp), ...auth.opts, 'porta@127.0.0.1', 'md5sum /sub/hello.txt'], { env: auth.env });
    assert.equal(md5.status, 0, md5.stderr);
    assert.match(md5.stdout, /^[0-9a-f]{32} {2}/);
    const sha1 = await run('ssh', ['-p', String(ports.sftp), ...auth.opts, 'porta@127.0.0.1', 'sha1sum /sub/hello.txt'], { env: auth.env });
    assert.notEqual(sha1.status, 0, 'sha1sum is not in --ssh-commands');
  });
});

test('malformed portable flags are usage errors naming the flag', async () => {
  const dir = await fsp.mkdtemp(path.join(os.tmpdir(), 'portable-flags-'));
  try {
    await assert.rejects(startPortable({ cwd: dir, args: ['-d', dir, '--allowed-patterns', '*.jpg'] }), /--allowed-patterns "\*\.jpg": expected "\/dir::pattern1,pattern2"/);
    await assert.rejects(startPortable({ cwd: dir, args: ['-d', dir, '--ftpd-port', '0', '--ftpd-cert', '/nonexistent.pem'] }), /--ftpd-cert and --ftpd-key go together/);
    await assert.rejects(startPortable({ cwd: dir, args: ['-d', dir, '--webdav-port', '70000'] }), /--webdav-port 70000: must be an integer up to 65535/);
    await assert.rejects(startPortable({ cwd: dir, args: ['-d', dir, '--password-file', path.join(dir, 'missing')] }), /--password-file .*missing: ENOENT/);
  } finally {
    await fsp.rm(dir, { recursive: true, force: true });
  }
});
