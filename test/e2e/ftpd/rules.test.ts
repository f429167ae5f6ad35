/** Core rules through FTP: auth, TLS policy, no bounce, permissions, jail, quota, and robustness. */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as path from 'node:path';
import { Readable, Writable } from 'node:stream';
import { Client, FTPError } from 'basic-ftp';
import { addUser, startFtp, type FtpHarness } from './harness';
import { drain, RawFtp } from './rawftp';

async function ftpCode(p: Promise<unknown>): Promise<number> {
  try {
    await p;
  } catch (e) {
    if (e instanceof FTPError) return e.code;
    throw e;
  }
  throw new Error('expected an FTP error');
}

describe('ftpd rules', () => {
  let h: FtpHarness;
  let home: string;
  const clients: Client[] = [];
  const raws: RawFtp[] = [];

  async function basic(user: string, password: string, secure = false): Promise<Client> {
    const c = new Client(15_000);
    clients.push(c);
    await c.access({ host: '127.0.0.1', port: h.plainPort, user, password, secure, secureOptions: { rejectUnauthorized: false } });
    return c;
  }
  async function raw(user?: string, password?: string): Promise<RawFtp> {
    const r = await RawFtp.connect(h.plainPort);
    raws.push(r);
    if (user) await r.login(user, password ?? '');
    return r;
  }

  before(async () => {
    h = await startFtp((c) => { c.ftpd.hash_support = 1; c.ftpd.enable_site = true; });
    home = await addUser(h, { username: 'bob', password: 'bob-pass' });
    await addUser(h, { username: 'reader', password: 'reader-pass', permissions: { '/': ['list', 'download'] } });
    await addUser(h, { username: 'tlsonly', password: 'tls-pass', filters: { ftp_security: 1 } });
    await addUser(h, { username: 'small', password: 'small-pass', quota_size: 100_000, quota_files: 0 });
    // limited but fast: STOR takes the copy-and-wait path of the lent read buffer without waiting long
    await addUser(h, { username: 'limited', password: 'limited-pass', upload_bandwidth: 200_000 });
    fs.writeFileSync(path.join(home, 'hello.txt'), 'hello world');
    fs.writeFileSync(path.join(h.home('reader'), 'keep.txt'), 'keep');
    fs.writeFileSync(path.join(h.base, 'outside.txt'), 'secret outside');
    fs.symlinkSync(h.base, path.join(home, 'escape'));
  });
  after(async () => {
    for (const c of clients) c.close();
    for (const r of raws) r.close();
    await h.close();
  });

  test('failed login: 530 and a connection_failed log line', async () => {
    const c = new Client(15_000);
    clients.push(c);
    const code = await ftpCode(c.access({ host: '127.0.0.1', port: h.plainPort, user: 'bob', password: 'wrong' }));
    assert.equal(code, 530);
    const failed = await h.waitForLog((l) => l['sender'] === 'connection_failed' && l['username'] === 'bob');
    const lines = await h.logLines();
    assert.ok(failed, 'connection_failed line');
    assert.equal(failed['protocol'], 'FTP');
    assert.equal(failed['login_type'], 'password');
    assert.equal(failed['client_ip'], '127.0.0.1');
    assert.ok(!JSON.stringify(lines).includes('wrong"'), 'the password is never logged');
  });

  test('ftp_security 1: refused in plain text, accepted over TLS', async () => {
    const c = new Client(15_000);
    clients.push(c);
    const code = await ftpCode(c.access({ host: '127.0.0.1', port: h.plainPort, user: 'tlsonly', password: 'tls-pass' }));
    assert.equal(code, 534);
    const ok = await basic('tlsonly', 'tls-pass', true);
    assert.equal(await ok.pwd(), '/');
  });

  test('PORT/EPRT to another address are refused (no FTP bounce)', async () => {
    const r = await raw('bob', 'bob-pass');
    assert.equal((await r.cmd('PORT 10,1,2,3,40,1')).code, 504);
    assert.equal((await r.cmd('EPRT |1|10.1.2.3|10241|')).code, 504);
    assert.equal((await r.cmd('PORT 127,0,0,1,0,21')).code, 504, 'privileged port');
    assert.equal((await r.cmd('PORT garbage')).code, 501);
  });

  test('active mode: PORT to the client\'s own address works', async () => {
    const r = await raw('bob', 'bob-pass');
    const srv = net.createServer();
    await new Promise<void>((resolve) => srv.listen(0, '127.0.0.1', resolve));
    const port = (srv.address() as net.AddressInfo).port;
    const got = new Promise<Buffer>((resolve) => srv.once('connection', (s) => { s.on('error', () => undefined); void drain(s).then(resolve); }));
    assert.equal((await r.cmd(`PORT 127,0,0,1,${port >> 8},${port & 255}`)).code, 200);
    assert.equal((await r.cmd('RETR hello.txt')).code, 150);
    assert.equal((await r.read()).code, 226);
    assert.equal((await got).toString(), 'hello world');
    srv.close();
  });

  test('no upload / no delete permission → 550', async () => {
    const c = await basic('reader', 'reader-pass');
    assert.equal(await ftpCode(c.uploadFrom(Readable.from([Buffer.from('x')]), 'new.txt')), 550);
    assert.equal(await ftpCode(c.remove('keep.txt')), 550);
    assert.equal(await ftpCode(c.send('MKD sub')), 550);
    assert.ok(fs.existsSync(path.join(h.home('reader'), 'keep.txt')));
    assert.ok(!fs.existsSync(path.join(h.home('reader'), 'new.txt')));
  });

  test('jail: cd above the root, relative/absolute escapes and outside symlinks fail', async () => {
    const c = await basic('bob', 'bob-pass');
    await c.cd('../../..');
    assert.equal(await c.pwd(), '/');
    const sink = (): Writable => new Writable({ write: (_c, _e, cb) => cb() });
    assert.equal(await ftpCode(c.downloadTo(sink(), '../../etc/passwd')), 550);
    assert.equal(await ftpCode(c.downloadTo(sink(), '/etc/passwd')), 550);
    assert.equal(await ftpCode(c.downloadTo(sink(), 'escape/outside.txt')), 550);
    assert.equal(await ftpCode(c.send('SIZE /../outside.txt')), 550);
    assert.equal(await ftpCode(c.cd('escape')), 550);
    const r = await raw('bob', 'bob-pass');
    assert.equal((await r.cmd('CWD /../../')).code, 250);
    assert.match((await r.cmd('PWD')).text, /^257 "\/"/);
  });

  test('quota exceeded → 552 and no partial file (atomic upload mode)', async () => {
    const c = await basic('small', 'small-pass');
    const code = await ftpCode(c.uploadFrom(Readable.from([Buffer.alloc(300_000, 7)]), 'big.bin'));
    assert.equal(code, 552);
    assert.ok(!fs.existsSync(path.join(h.home('small'), 'big.bin')));
    assert.deepEqual(fs.readdirSync(h.home('small')), []);
  });

  test('STOR keeps every byte on the inline and on the bandwidth-limited path', async () => {
    const data = crypto.randomBytes(4 * 1024 * 1024 + 4321);
    for (const [user, pass] of [['bob', 'bob-pass'], ['limited', 'limited-pass']] as const) {
      const c = await basic(user, pass);
      await c.uploadFrom(Readable.from([data]), 'stored.bin');
      assert.ok(fs.readFileSync(path.join(h.home(user), 'stored.bin')).equals(data), user);
    }
  });

  test('MLSD, MLST, MFMT/MDTM, SIZE, HASH, SITE CHMOD, AVBL, FEAT', async () => {
    const c = await basic('bob', 'bob-pass');
    const list = await c.list();
    const hello = list.find((f) => f.name === 'hello.txt');
    assert.equal(hello?.size, 11);
    const r = await raw('bob', 'bob-pass');
    const feat = await r.cmd('FEAT');
    assert.match(feat.text, /MLST type\*/);
    assert.match(feat.text, /AUTH TLS/);
    assert.match((await r.cmd('MLST hello.txt')).text, /type=file;size=11;.* \/hello\.txt/);
    assert.equal((await r.cmd('MFMT 20200102030405 hello.txt')).code, 213);
    assert.equal((await r.cmd('MDTM hello.txt')).text, '213 20200102030405');
    assert.equal(fs.statSync(path.join(home, 'hello.txt')).mtime.toISOString(), '2020-01-02T03:04:05.000Z');
    assert.equal((await r.cmd('SIZE hello.txt')).text, '213 11');
    assert.match((await r.cmd('HASH hello.txt')).text,
      /^213 SHA-256 0-11 b94d27b9934d3e08a52e52d7da7dabfac484efe37a5380ee9088f7ace2efcde9 \/hello\.txt$/);
    assert.equal((await r.cmd('SITE CHMOD 600 hello.txt')).code, 200);
    assert.equal(fs.statSync(path.join(home, 'hello.txt')).mode & 0o777, 0o600);
    assert.match((await r.cmd('AVBL')).text, /^213 \d+$/);
    assert.equal((await r.cmd('SIZE nope.txt')).code, 550);
  });

  test('ABOR during a download: 426 then 226, session still usable', async () => {
    fs.writeFileSync(path.join(home, 'large.bin'), Buffer.alloc(64 * 1024 * 1024, 1));
    const r = await raw('bob', 'bob-pass');
    const data = await r.epsv();
    data.pause(); // never read: the server's pipeline stalls on backpressure
    assert.equal((await r.cmd('RETR large.bin')).code, 150);
    r.send('ABOR');
    assert.equal((await r.read()).code, 426);
    assert.equal((await r.read()).code, 226);
    data.destroy();
    assert.equal((await r.cmd('NOOP')).code, 200);
  });

  test('an upload aborted with ABOR leaves no file (atomic mode)', async () => {
    const r = await raw('bob', 'bob-pass');
    const data = await r.epsv();
    assert.equal((await r.cmd('STOR cut.bin')).code, 150);
    await new Promise<void>((resolve) => data.write(Buffer.alloc(100_000, 3), () => resolve()));
    r.send('ABOR');
    assert.equal((await r.read()).code, 426);
    assert.equal((await r.read()).code, 226);
    data.destroy();
    assert.ok(!fs.existsSync(path.join(home, 'cut.bin')));
    assert.deepEqual(fs.readdirSync(home).filter((n) => n.startsWith('.sftpgo-upload')), []);
  });

  test('robustness: split lines, unknown commands, long lines, strangers on the passive port', async () => {
    const r = await raw();
    r.sock.write('NO');
    await new Promise<void>((resolve) => setImmediate(resolve));
    r.sock.write('OP\r\n');
    assert.equal((await r.read()).code, 200);
    assert.equal((await r.cmd('XYZZY foo')).code, 502);
    assert.equal((await r.cmd('LIST')).code, 530);
    r.sock.write(`${'A'.repeat(20_000)}`);
    assert.equal((await r.read()).code, 500);
    // telnet IP + DM bytes before a command (what clients send before ABOR) are ignored
    r.sock.write(Buffer.concat([Buffer.from([0xff, 0xf4, 0xff, 0xf2]), Buffer.from('NOOP\r\n')]));
    assert.equal((await r.read()).code, 200);
    await r.login('bob', 'bob-pass');
    // a connection to the passive port from another address is dropped, the client's own works
    const ep = await r.cmd('EPSV');
    const port = Number(/\|\|\|(\d+)\|/.exec(ep.text)![1]);
    const stranger = net.connect({ port, host: '127.0.0.1', localAddress: '127.0.0.2' });
    stranger.on('error', () => undefined);
    await new Promise<void>((resolve) => stranger.once('close', () => resolve()));
    const mine = net.connect({ port, host: '127.0.0.1' });
    mine.on('error', () => undefined);
    const listing = drain(mine);
    assert.equal((await r.cmd('NLST')).code, 150);
    assert.equal((await r.read()).code, 226);
    assert.match((await listing).toString(), /hello\.txt/);
    assert.equal((await r.cmd('QUIT')).code, 221);
  });
});
