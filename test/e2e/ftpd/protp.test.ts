/**
 * Data connections must be protected (PROT P) when TLS is required: binding
 * tls_mode 1, or a user with ftp_security 1. Driven by lftp (data protection
 * switched off on purpose) and a raw client (PROT C after a TLS login). The
 * refusal is ftpserverlib's (SFTPGo's): 421 "TLS is required", and a refused
 * STOR creates or truncates nothing.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { addUser, lftp, startFtp, type FtpHarness } from './harness';
import { RawFtp, drain } from './rawftp';

const TLS_CLEAR_DATA = ['set ftp:ssl-force yes', 'set ftp:ssl-protect-data no', 'set ftp:ssl-protect-list no'];
const TLS_PROTECTED = ['set ftp:ssl-force yes', 'set ftp:ssl-protect-data yes', 'set ftp:ssl-protect-list yes'];

describe('ftpd: PROT P required with TLS', () => {
  let h: FtpHarness;
  let local: string;
  const raws: RawFtp[] = [];

  before(async () => {
    h = await startFtp();
    await addUser(h, { username: 'alice', password: 'alice-pass' });
    await addUser(h, { username: 'secure', password: 'secure-pass', filters: { ftp_security: 1 } });
    for (const u of ['alice', 'secure']) fs.writeFileSync(path.join(h.home(u), 'keep.txt'), 'keep');
    local = path.join(h.base, 'local');
    fs.mkdirSync(local);
    fs.writeFileSync(path.join(local, 'up.txt'), 'uploaded');
  });
  after(async () => {
    for (const r of raws) r.close();
    await h.close();
  });

  for (const [label, port, user] of [['binding tls_mode 1', 'explicit', 'alice'], ['user ftp_security 1', 'plain', 'secure']] as const) {
    test(`${label}: lftp with clear data is refused, nothing written; PROT P works`, async () => {
      const url = `ftp://127.0.0.1:${port === 'explicit' ? h.explicitPort : h.plainPort}`;
      const pass = `${user}-pass`;
      const ls = await lftp(url, user, pass, ['cls -1'], TLS_CLEAR_DATA, local);
      assert.notEqual(ls.code, 0, 'a listing over a clear data connection must fail');
      // lftp retries a 421 until net:max-retries, then reports that instead of the reply text
      assert.match(ls.stderr, /TLS is required|max-retries exceeded/);
      const put = await lftp(url, user, pass, ['put up.txt -o keep.txt'], TLS_CLEAR_DATA, local);
      assert.notEqual(put.code, 0);
      assert.equal(fs.readFileSync(path.join(h.home(user), 'keep.txt'), 'utf8'), 'keep', 'a refused STOR must not truncate');
      const ok = await lftp(url, user, pass, ['put up.txt -o new.txt', 'cls -1'], TLS_PROTECTED, local);
      assert.equal(ok.code, 0, ok.stderr);
      assert.match(ok.stdout, /new\.txt/);
      assert.equal(fs.readFileSync(path.join(h.home(user), 'new.txt'), 'utf8'), 'uploaded');
    });

    test(`${label}: PROT C after a TLS login: LIST and STOR get 421, nothing written`, async () => {
      const r = await RawFtp.connect(port === 'explicit' ? h.explicitPort : h.plainPort);
      raws.push(r);
      await r.startTls();
      await r.login(user, `${user}-pass`);
      assert.equal((await r.cmd('PBSZ 0')).code, 200);
      assert.equal((await r.cmd('PROT C')).code, 200);
      const data = await r.epsv();
      const list = await r.cmd('LIST');
      assert.equal(list.code, 421, list.text);
      assert.match(list.text, /TLS is required/);
      data.destroy();
      await r.epsv().then((d) => d.destroy());
      const stor = await r.cmd('STOR keep.txt');
      assert.equal(stor.code, 421, stor.text);
      assert.equal(fs.readFileSync(path.join(h.home(user), 'keep.txt'), 'utf8'), 'keep');
      // the session goes on, and protected data works
      assert.equal((await r.cmd('PROT P')).code, 200);
      assert.equal((await r.cmd('NOOP')).code, 200);
    });
  }

  test('control: without a TLS requirement, clear data still works on the plain binding', async () => {
    const r = await RawFtp.connect(h.plainPort);
    raws.push(r);
    await r.login('alice', 'alice-pass');
    const data = await r.epsv();
    const body = drain(data);
    const list = await r.cmd('LIST');
    assert.equal(list.code, 150, list.text);
    assert.match((await body).toString(), /keep\.txt/);
    assert.equal((await r.read()).code, 226);
  });
});
