/**
 * Certificate reload (what SIGHUP does): after the files are swapped and the
 * service's reload() runs, new TLS connections (explicit AUTH TLS and
 * implicit) present the new certificate, while a control connection opened
 * before keeps working. A broken replacement keeps the last good certificate.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as path from 'node:path';
import * as tls from 'node:tls';
import { Writable } from 'node:stream';
import { Client } from 'basic-ftp';
import { addUser, startFtp, type FtpHarness } from './harness';

function makeCert(dir: string, cn: string): { cert: string; key: string; fingerprint: string } {
  fs.mkdirSync(dir, { recursive: true });
  const cert = path.join(dir, 'cert.pem');
  const key = path.join(dir, 'key.pem');
  const r = spawnSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '2', '-subj', `/CN=${cn}`,
    '-keyout', key, '-out', cert], { stdio: 'ignore' });
  if (r.status !== 0) throw new Error('openssl failed to make a test certificate');
  return { cert, key, fingerprint: new crypto.X509Certificate(fs.readFileSync(cert)).fingerprint256 };
}

function fingerprintOf(sock: tls.TLSSocket): string {
  const c = sock.getPeerX509Certificate();
  assert.ok(c, 'the server presented a certificate');
  return c.fingerprint256;
}

/**
 * The certificate a new TLS connection is shown, read in the secureConnect
 * callback (Node may drop the peer certificate of a long-lived socket later,
 * seen with basic-ftp's upgraded socket). Implicit TLS, or AUTH TLS on a
 * plain connection first.
 */
function tlsFingerprint(port: number, authTls: boolean): Promise<string> {
  return new Promise((resolve, reject) => {
    const handshake = (socket?: net.Socket): void => {
      const s = tls.connect({ port, host: '127.0.0.1', socket, rejectUnauthorized: false }, () => {
        const fp = fingerprintOf(s);
        s.destroy();
        resolve(fp);
      });
      s.once('error', reject);
    };
    if (!authTls) { handshake(); return; }
    const raw = net.connect({ port, host: '127.0.0.1' });
    raw.once('error', reject);
    let buf = '';
    let sent = false;
    const onData = (d: Buffer): void => {
      buf += d.toString('latin1');
      if (!sent && /^220 .*\r\n/m.test(buf)) {
        sent = true;
        buf = '';
        raw.write('AUTH TLS\r\n');
      } else if (sent && /^234 .*\r\n/m.test(buf)) {
        raw.off('data', onData);
        handshake(raw);
      } else if (/^[45]\d\d .*\r\n/m.test(buf)) {
        raw.destroy();
        reject(new Error(`AUTH TLS refused: ${buf}`));
      }
    };
    raw.on('data', onData);
  });
}

describe('ftpd certificate reload', { timeout: 60_000 }, () => {
  let h: FtpHarness;
  const clients: Client[] = [];

  async function explicit(): Promise<Client> {
    const c = new Client(15_000);
    clients.push(c);
    await c.access({ host: '127.0.0.1', port: h.explicitPort, user: 'rel', password: 'rel-pass', secure: true, secureOptions: { rejectUnauthorized: false } });
    return c;
  }

  before(async () => {
    h = await startFtp();
    const home = await addUser(h, { username: 'rel', password: 'rel-pass' });
    fs.writeFileSync(path.join(home, 'f.txt'), 'reload me');
  });
  after(async () => {
    for (const c of clients) c.close();
    await h.close();
  });

  test('reload(): new connections get cert B, an existing one keeps working', async () => {
    const a = new crypto.X509Certificate(fs.readFileSync(path.join(h.base, 'cert.pem'))).fingerprint256;
    const before = await explicit();
    assert.equal(await tlsFingerprint(h.implicitPort, false), a);
    assert.equal(await tlsFingerprint(h.explicitPort, true), a);

    const b = makeCert(path.join(h.base, 'certB'), 'reloaded.example');
    assert.notEqual(b.fingerprint, a);
    // swap the files in place, as an admin (or certbot) does before sending SIGHUP
    fs.copyFileSync(b.cert, path.join(h.base, 'cert.pem'));
    fs.copyFileSync(b.key, path.join(h.base, 'key.pem'));
    assert.ok(h.service.reload, 'the FTP service supports reload');
    await h.service.reload();

    assert.equal(await tlsFingerprint(h.implicitPort, false), b.fingerprint, 'implicit TLS after reload');
    assert.equal(await tlsFingerprint(h.explicitPort, true), b.fingerprint, 'AUTH TLS after reload');
    const after = await explicit();
    assert.equal(await after.pwd(), '/');

    // the control connection made before the reload still works, data channel included (PROT P)
    assert.equal(await before.pwd(), '/');
    const chunks: Buffer[] = [];
    await before.downloadTo(new Writable({ write: (c: Buffer, _e, cb) => { chunks.push(c); cb(); } }), 'f.txt');
    assert.equal(Buffer.concat(chunks).toString(), 'reload me');
    assert.ok((await before.list()).some((f) => f.name === 'f.txt'));
  });

  test('a broken replacement is refused: the last good certificate stays', async () => {
    const current = await tlsFingerprint(h.implicitPort, false);
    fs.writeFileSync(path.join(h.base, 'cert.pem'), '-----BEGIN CERTIFICATE-----\nnot a certificate\n-----END CERTIFICATE-----\n');
    await h.service.reload!();
    assert.equal(await tlsFingerprint(h.implicitPort, false), current);
    assert.equal(await tlsFingerprint(h.explicitPort, true), current);
    const c = await explicit();
    assert.equal(await c.pwd(), '/');
    await h.waitForLog((l) => l['sender'] === 'ftpd' && String(l['message']).includes('certificate reload failed'));
  });
});
