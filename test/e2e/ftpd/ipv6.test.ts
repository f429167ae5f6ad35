/**
 * FTP over IPv6 and IPv4 on one dual-stack binding (address ""): EPSV and
 * PASV, EPRT and PORT, always only to the client's own address (no FTP
 * bounce), with raw commands, basic-ftp and lftp over [::1]. Skipped, with
 * the reason, only when the IPv6 loopback cannot be listened on.
 */
import { after, before, describe, test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as path from 'node:path';
import { Writable } from 'node:stream';
import { Client } from 'basic-ftp';
import { addUser, lftp, startFtp, type FtpHarness } from './harness';
import { drain, RawFtp } from './rawftp';

const NO_V6 = 'IPv6 loopback ::1 is not available on this machine (listening on ::1 failed)';

function canListenV6(): Promise<boolean> {
  return new Promise((resolve) => {
    const s = net.createServer();
    s.once('error', () => resolve(false));
    s.listen(0, '::1', () => s.close(() => resolve(true)));
  });
}

/** A listener for active-mode data connections; resolves what the server sends on the first one. */
async function activeSink(host: string): Promise<{ port: number; got: Promise<{ data: Buffer; from: string }>; close(): void }> {
  const srv = net.createServer();
  srv.on('error', () => undefined);
  await new Promise<void>((resolve) => srv.listen(0, host, resolve));
  const got = new Promise<{ data: Buffer; from: string }>((resolve) => srv.once('connection', (s) => {
    s.on('error', () => undefined);
    const from = s.remoteAddress ?? ''; // read now: it is gone once the socket has closed
    void drain(s).then((data) => resolve({ data, from }));
  }));
  return { port: (srv.address() as net.AddressInfo).port, got, close: () => srv.close() };
}

describe('ftpd over IPv6 and IPv4 (dual-stack binding)', () => {
  let v6 = false;
  let h: FtpHarness | undefined;
  let home: string;
  const raws: RawFtp[] = [];
  const data = crypto.randomBytes(300_000);

  async function raw(host: string): Promise<RawFtp> {
    const r = await RawFtp.connect(h!.plainPort, { host });
    raws.push(r);
    await r.login('six', 'six-pass');
    return r;
  }
  const need = (t: TestContext): boolean => {
    if (!v6) t.skip(NO_V6);
    return v6;
  };

  before(async () => {
    v6 = await canListenV6();
    if (!v6) return;
    // "" listens on :: (both families); passive listeners open on the control connection's local address
    h = await startFtp((c) => { c.ftpd.bindings = c.ftpd.bindings.map((b) => ({ ...b, address: '' })); });
    home = await addUser(h, { username: 'six', password: 'six-pass' });
    fs.writeFileSync(path.join(home, 'f.bin'), data);
  });
  after(async () => {
    for (const r of raws) r.close();
    await h?.close();
  });

  test('IPv6: EPSV data connection to [::1], listing and download', async (t) => {
    if (!need(t)) return;
    const r = await raw('::1');
    const d = await r.epsv();
    assert.equal(d.remoteAddress, '::1');
    const listing = drain(d);
    assert.equal((await r.cmd('NLST')).code, 150);
    assert.equal((await r.read()).code, 226);
    assert.match((await listing).toString(), /f\.bin/);
    const d2 = await r.epsv();
    const body = drain(d2);
    assert.equal((await r.cmd('RETR f.bin')).code, 150);
    assert.equal((await r.read()).code, 226);
    assert.ok((await body).equals(data));
    assert.equal((await r.cmd('EPSV 2')).code, 229, 'EPSV with the IPv6 protocol number');
    assert.equal((await r.cmd('EPSV 3')).code, 522, 'unknown network protocol');
  });

  test('IPv6: PASV cannot carry an IPv6 address and is refused; the session goes on', async (t) => {
    if (!need(t)) return;
    const r = await raw('::1');
    const p = await r.cmd('PASV');
    assert.equal(p.code, 425, p.text);
    assert.equal((await r.cmd('NOOP')).code, 200);
  });

  test('IPv6: EPRT to [::1] (the client) works, to another address or family is refused', async (t) => {
    if (!need(t)) return;
    const r = await raw('::1');
    const sink = await activeSink('::1');
    try {
      assert.equal((await r.cmd(`EPRT |2|::1|${sink.port}|`)).code, 200);
      assert.equal((await r.cmd('RETR f.bin')).code, 150);
      assert.equal((await r.read()).code, 226);
      const got = await sink.got;
      assert.ok(got.data.equals(data));
      assert.equal(got.from, '::1', 'the data connection comes from the server over IPv6');
    } finally {
      sink.close();
    }
    assert.equal((await r.cmd('EPRT |2|2001:db8::1|40000|')).code, 504, 'another IPv6 address');
    assert.equal((await r.cmd('EPRT |1|127.0.0.1|40000|')).code, 504, 'IPv4 from an IPv6 session is another address');
    assert.equal((await r.cmd('PORT 127,0,0,1,156,64')).code, 504, 'PORT is IPv4 only, another address here');
    assert.equal((await r.cmd('EPRT |2|::1|21|')).code, 504, 'privileged port');
    assert.equal((await r.cmd('EPRT |2|not-an-ip|40000|')).code, 501);
    assert.equal((await r.cmd('EPRT |1|::1|40000|')).code, 501, 'protocol 1 with an IPv6 address');
  });

  test('IPv4 on the same binding: PASV announces 127.0.0.1, PORT/EPRT only to the client', async (t) => {
    if (!need(t)) return;
    const r = await raw('127.0.0.1');
    const p = await r.cmd('PASV');
    const m = /\((127),0,0,1,(\d+),(\d+)\)/.exec(p.text);
    assert.equal(p.code, 227, p.text);
    assert.ok(m, `PASV reply: ${p.text}`);
    const d = net.connect({ host: '127.0.0.1', port: Number(m[2]) * 256 + Number(m[3]) });
    d.on('error', () => undefined);
    const body = drain(d);
    assert.equal((await r.cmd('RETR f.bin')).code, 150);
    assert.equal((await r.read()).code, 226);
    assert.ok((await body).equals(data));
    assert.equal((await r.cmd('EPRT |2|::1|40000|')).code, 504, 'IPv6 from an IPv4 session is another address');
    assert.equal((await r.cmd('PORT 10,0,0,1,156,64')).code, 504);
  });

  test('basic-ftp over [::1]: upload and download (EPSV)', async (t) => {
    if (!need(t)) return;
    const c = new Client(15_000);
    try {
      await c.access({ host: '::1', port: h!.plainPort, user: 'six', password: 'six-pass' });
      await c.uploadFrom(fs.createReadStream(path.join(home, 'f.bin')), 'up6.bin');
      const chunks: Buffer[] = [];
      await c.downloadTo(new Writable({ write: (ch: Buffer, _e, cb) => { chunks.push(ch); cb(); } }), 'up6.bin');
      assert.ok(Buffer.concat(chunks).equals(data));
    } finally {
      c.close();
    }
  });

  test('lftp over [::1]: passive (EPSV) put and get; its active EPRT names "::" and is refused', async (t) => {
    if (!need(t)) return;
    const local = path.join(h!.base, 'local6');
    fs.mkdirSync(local, { recursive: true });
    fs.writeFileSync(path.join(local, 'src.bin'), data);
    const url = `ftp://[::1]:${h!.plainPort}`;
    const plain = ['set ftp:ssl-allow no'];
    const pasv = await lftp(url, 'six', 'six-pass', ['put src.bin -o p6.bin', 'get p6.bin -o p6-back.bin', 'cls -1'], plain, local);
    assert.equal(pasv.code, 0, pasv.stderr);
    assert.ok(fs.readFileSync(path.join(local, 'p6-back.bin')).equals(data));
    assert.ok(fs.readFileSync(path.join(home, 'p6.bin')).equals(data));
    assert.match(pasv.stdout, /p6\.bin/);
    const log = await h!.logLines();
    assert.ok(log.some((l) => l['sender'] === 'Upload' && String(l['remote_addr']).includes('::1')), 'the upload is logged with the IPv6 client address');
    // lftp 4.9 sends `EPRT |2|::|port|` (its data socket is bound to any): the unspecified
    // address is not the client's own, so it is refused like any other (SFTPGo compares IPs too)
    const act = await lftp(url, 'six', 'six-pass', ['debug 5', 'put src.bin -o a6.bin'],
      [...plain, 'set ftp:passive-mode off', 'set net:max-retries 1'], local);
    assert.notEqual(act.code, 0);
    assert.match(act.stderr, /EPRT \|2\|::\|\d+\|[\s\S]*504/);
    assert.equal(fs.existsSync(path.join(home, 'a6.bin')), false);
  });
});
