/**
 * `sftpgo portable --httpd-port` (SFTPGo 2.7): the web client for the
 * portable account over HTTPS with --httpd-cert/--httpd-key, driven by curl
 * (login form with its token, a download); the web admin and the REST API
 * stay off; the account is read-only in the web client without upload
 * permission; --config-dir/--config-file feed the settings portable mode
 * does not set (here the web client's branding); a negative --sftpd-port
 * turns SFTP off; bad values are refused.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { promises as fsp } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { startPortable, type RunningPortable } from '../../support/portable';
import { makePki, type TestPki } from '../../support/tlscerts';
import { run } from '../sftpd/openssh';

describe('portable mode with the web client over HTTPS', () => {
  let dir: string;
  let served: string;
  let pki: TestPki;
  let p: RunningPortable;
  let base: string;
  const jar = (): string => path.join(dir, 'cookies.txt');
  const curl = (args: string[]) => run('curl', ['-sS', '--cacert', pki.serverCert, '-b', jar(), '-c', jar(), ...args]);

  before(async () => {
    dir = await fsp.mkdtemp(path.join(os.tmpdir(), 'portable-webclient-'));
    served = path.join(dir, 'served');
    await fsp.mkdir(path.join(served, 'sub'), { recursive: true });
    await fsp.writeFile(path.join(served, 'sub', 'hello.txt'), 'hello web client\n');
    await fsp.mkdir(path.join(dir, 'conf'));
    await fsp.writeFile(path.join(dir, 'conf', 'custom.json'), JSON.stringify({
      httpd: { bindings: [{ port: 8080, branding: { web_client: { name: 'Portable Brand X' } } }] },
    }));
    pki = await makePki(path.join(dir, 'pki'), ['nobody']);
    p = await startPortable({
      cwd: dir,
      args: ['-d', served, '-s', '-1', '-u', 'webby', '-p', 'Web-pw-123', '-L', 'info', '--config-dir', path.join(dir, 'conf'), '--config-file', 'custom.json',
        '--httpd-port', '0', '--httpd-cert', pki.serverCert, '--httpd-key', pki.serverKey],
    });
    const port = Number(/^WebClient URL: https:\/\/<your IP>:(\d+)\/$/m.exec(p.lines.join('\n'))?.[1]);
    assert.ok(port > 0 && port !== 8080, p.lines.join('\n'));
    base = `https://127.0.0.1:${port}`;
    assert.ok(p.lines.includes('Portable mode ready, SFTP disabled'), 'a negative --sftpd-port turns SFTP off');
  });
  after(async () => {
    await p?.stop();
    await fsp.rm(dir, { recursive: true, force: true });
  });

  test('curl logs in to the web client as the portable user and downloads a file', async () => {
    const page = await curl([`${base}/web/client/login`]);
    assert.equal(page.status, 0, page.stderr);
    assert.match(page.stdout, /Portable Brand X/, 'the branding comes from --config-file in --config-dir');
    const token = /name="_form_token" value="([^"]+)"/.exec(page.stdout)?.[1] ?? '';
    assert.notEqual(token, '');
    const bad = await curl(['-o', '/dev/null', '-w', '%{http_code}', '--data-urlencode', `_form_token=${token}`, '-d', 'username=webby', '-d', 'password=wrong', `${base}/web/client/login`]);
    assert.notEqual(bad.stdout, '303');
    const again = await curl([`${base}/web/client/login`]);
    const token2 = /name="_form_token" value="([^"]+)"/.exec(again.stdout)?.[1] ?? '';
    const login = await curl(['-o', '/dev/null', '-w', '%{http_code}', '--data-urlencode', `_form_token=${token2}`, '-d', 'username=webby', '-d', 'password=Web-pw-123', `${base}/web/client/login`]);
    assert.equal(login.stdout, '303', login.stderr);
    const file = await curl([`${base}/web/client/download?path=${encodeURIComponent('/sub/hello.txt')}`]);
    assert.equal(file.status, 0, file.stderr);
    assert.equal(file.stdout, 'hello web client\n');
  });

  test('without upload permission the web client is read-only', async () => {
    const files = await curl([`${base}/web/client/files`]);
    const token = /name="_form_token" value="([^"]+)"/.exec(files.stdout)?.[1] ?? '';
    const mkdir = await curl(['-o', '/dev/null', '-w', '%{http_code}', '--data-urlencode', `_form_token=${token}`, '-d', 'path=/', '-d', 'name=newdir', `${base}/web/client/mkdir`]);
    assert.match(mkdir.stdout, /^40[03]$/);
    await assert.rejects(fsp.stat(path.join(served, 'newdir')));
  });

  test('the web admin and the REST API are not served', async () => {
    const status = async (method: string, url: string, extra: string[] = []): Promise<string> =>
      (await curl(['-o', '/dev/null', '-w', '%{http_code}', '-X', method, ...extra, url])).stdout;
    assert.equal(await status('GET', `${base}/web/admin/login`), '404');
    assert.equal(await status('GET', `${base}/api/v2/user/token`, ['-u', 'webby:Web-pw-123']), '404');
    assert.equal(await status('GET', `${base}/openapi/openapi.yaml`), '404');
  });
});

test('bad web client flags and config are refused with a message naming them', async () => {
  const dir = await fsp.mkdtemp(path.join(os.tmpdir(), 'portable-webclient-flags-'));
  try {
    const pki = await makePki(path.join(dir, 'pki'), ['nobody']);
    const start = (args: string[]) => startPortable({ cwd: dir, args: ['-d', dir, ...args] });
    await assert.rejects(start(['--httpd-port', '70000']), /--httpd-port 70000: must be an integer up to 65535/);
    await assert.rejects(start(['--httpd-port', 'abc']), /httpd-port/);
    await assert.rejects(start(['--httpd-port', '0', '--httpd-cert', pki.serverCert]), /--httpd-cert and --httpd-key go together/);
    await assert.rejects(start(['--httpd-port', '0', '--httpd-cert', pki.serverCert, '--httpd-key', path.join(dir, 'none.key')]), /--httpd-cert\/--httpd-key: .*none\.key does not exist/);
    await assert.rejects(start(['--httpd-port', '0', '--httpd-cert', pki.serverCert, '--httpd-key', pki.stranger.key]), /--httpd-cert\/--httpd-key: cannot load the key pair/);
    await assert.rejects(start(['-s', '-1', '-S', '--httpd-port', '0']), /--advertise-service \(-S\) needs an SFTP, FTP or WebDAV listener/);
    await fsp.writeFile(path.join(dir, 'broken.json'), '{ "httpd": ');
    await assert.rejects(start(['--config-file', path.join(dir, 'broken.json')]), /broken\.json/);
  } finally {
    await fsp.rm(dir, { recursive: true, force: true });
  }
});
