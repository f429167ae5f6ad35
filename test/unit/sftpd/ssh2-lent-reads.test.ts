/**
 * sftpd/ssh2-lent-reads.ts lends one reused read buffer to ssh2 and relies on
 * ssh2 1.x and Node Readable internals: these tests fail if either changes.
 * An ssh2 client talks to an ssh2 server over loopback; the server's socket
 * is adopted as the daemon does it. Every cipher family, a rekey in the middle
 * of the transfer, a registered consumer that pauses every 5th chunk (it gets
 * data while paused; the window must re-open on resume or the transfer stalls) and
 * one that keeps every chunk without being registered (all must be copies).
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import * as net from 'node:net';
import { Readable } from 'node:stream';
import { Client, Server, utils } from 'ssh2';
import type { CipherAlgorithm, Connection, MacAlgorithm, ServerChannel } from 'ssh2';
import { acceptLentChunks, adoptForSsh, deliversDirectly, lentReadCounters, lentReadsState } from '../../../src/sftpd/ssh2-lent-reads';
import { isLentMemory } from '../../../src/util/user-buffer-socket';

const sha256 = (b: Buffer): string => createHash('sha256').update(b).digest('hex');

test('deliversDirectly reads Node\'s Readable state: one data listener and nothing buffered', () => {
  const r = new Readable({ read() { /* pushed by the test */ } });
  assert.equal(deliversDirectly(r), false, 'no data listener');
  r.on('data', () => undefined);
  assert.equal(deliversDirectly(r), true);
  r.pause();
  r.push(Buffer.from('abc'));
  assert.equal(r.readableLength, 3);
  assert.equal(deliversDirectly(r), false, 'data waiting in the buffer');
  const s = new Readable({ read() { /* pushed by the test */ } });
  s.on('data', () => undefined);
  s.on('data', () => undefined);
  assert.equal(deliversDirectly(s), false, 'two data listeners');
  s.destroy();
  r.destroy();
  assert.equal(deliversDirectly(r), false, 'destroyed');
});

test('lending is possible with this ssh2 and Node (the binding deciphers and Channel.push were found)', () => {
  assert.equal(lentReadsState, 'applied');
});

describe('ssh2 over a socket reading into one lent buffer', () => {
  let listener: net.Server;
  let port: number;
  const results = new Map<string, { lentChunks: number; chunks: number; pausedChunks: number }>();

  before(async () => {
    const hostKey = utils.generateKeyPairSync('ed25519').private;
    const ssh = new Server({ hostKeys: [hostKey] });
    ssh.on('connection', (client: Connection) => {
      client.on('error', () => undefined);
      client.on('authentication', (ctx) => ctx.accept());
      client.on('session', (accept) => {
        const session = accept();
        session.on('exec', (acceptExec, _reject, info) => serve(client, acceptExec(), info.command));
      });
    });
    // paused on accept, as the daemon's listeners (server.ts): a reading socket cannot be adopted
    listener = net.createServer({ noDelay: true, pauseOnConnect: true }, (sock) => {
      const lender = adoptForSsh(sock);
      assert.ok(lender, 'the accepted socket is adopted');
      ssh.injectSocket(lender.socket);
      // the daemon lends from authentication on (server.ts); here from the first 'ready'
      ssh.once('connection', (client: Connection) => client.once('ready', () => assert.ok(lender.lendTo(client))));
    });
    await new Promise<void>((r) => listener.listen(0, '127.0.0.1', r));
    port = (listener.address() as net.AddressInfo).port;
  });
  after(() => { listener?.close(); });

  /** "lent NAME": registered consumer hashing as it goes, pausing every 5th chunk; "kept NAME": unregistered, keeps all chunks. */
  function serve(client: Connection, ch: ServerChannel, command: string): void {
    const [mode, name] = command.split(' ') as [string, string];
    const stats = { lentChunks: 0, chunks: 0, pausedChunks: 0 };
    results.set(name, stats);
    const hash = createHash('sha256');
    const kept: Buffer[] = [];
    let received = 0;
    if (mode === 'lent') acceptLentChunks(ch);
    ch.on('data', (d: Buffer) => {
      stats.chunks++;
      if (isLentMemory(d)) stats.lentChunks++;
      // a Readable never emits while paused: only the direct delivery to a registered consumer does
      if (ch.isPaused()) stats.pausedChunks++;
      // a key exchange in the middle of the transfer (the server starts it; ssh2's client cannot)
      if (received < 1024 * 1024 && (received += d.length) >= 1024 * 1024) client.rekey();
      if (mode === 'kept') { kept.push(d); return; }
      hash.update(d);
      if (stats.chunks % 5 === 0) {
        ch.pause();
        setImmediate(() => ch.resume());
      }
    });
    ch.on('end', () => {
      const digest = mode === 'kept' ? sha256(Buffer.concat(kept)) : hash.digest('hex');
      ch.end(digest);
      ch.exit(0);
    });
  }

  /** Sends `payload` through `exec(command)` in 100 KiB writes; returns what the server hashed. */
  async function send(cipher: CipherAlgorithm, hmac: MacAlgorithm[], command: string, payload: Buffer): Promise<string> {
    const c = new Client();
    try {
      await new Promise<void>((res, rej) => {
        c.once('ready', res);
        c.once('error', rej);
        c.connect({ host: '127.0.0.1', port, username: 'u', password: 'p', algorithms: { cipher: [cipher], hmac } });
      });
      return await new Promise<string>((res, rej) => {
        c.exec(command, (err, stream) => {
          if (err) { rej(err); return; }
          let out = '';
          stream.on('data', (d: Buffer) => { out += d.toString(); });
          stream.on('close', () => res(out));
          stream.on('error', rej);
          let p = 0;
          const writeMore = (): void => {
            // bounded: every round writes up to 100 KiB of the payload
            while (p < payload.length) {
              const ok = stream.write(payload.subarray(p, p + 100 * 1024));
              p += 100 * 1024;
              if (!ok) { stream.once('drain', writeMore); return; }
            }
            stream.end();
          };
          writeMore();
        });
      });
    } finally {
      c.end();
    }
  }

  const CASES: Array<[CipherAlgorithm, MacAlgorithm[]]> = [
    ['aes128-gcm@openssh.com', ['hmac-sha2-256']],
    ['aes256-gcm@openssh.com', ['hmac-sha2-256']],
    ['chacha20-poly1305@openssh.com', ['hmac-sha2-256']],
    ['aes128-ctr', ['hmac-sha2-256']],
    ['aes256-ctr', ['hmac-sha2-256-etm@openssh.com']],
  ];
  for (const [cipher, hmac] of CASES) {
    test(`${cipher} + ${hmac[0]}: byte-exact through a registered consumer and an unregistered one, with a rekey`, async (t) => {
      const payload = randomBytes(3 * 1024 * 1024 + 17);
      const before = { ...lentReadCounters };
      const name = `${cipher}-${hmac[0]}`;
      assert.equal(await send(cipher, hmac, `lent ${name}`, payload), sha256(payload), 'registered consumer');
      assert.equal(await send(cipher, hmac, `kept ${name}-k`, payload), sha256(payload), 'unregistered consumer keeping chunks');
      const lent = results.get(name)!;
      const kept = results.get(`${name}-k`)!;
      const delta = Object.fromEntries(Object.entries(lentReadCounters).map(([k, v]) => [k, v - before[k as keyof typeof before]]));
      t.diagnostic(JSON.stringify({ lent, kept, delta }));
      assert.ok(delta.lentReads! > 0, 'reads were lent');
      assert.ok(lent.lentChunks > 0, 'the registered consumer got lent chunks');
      assert.ok(delta.directChannelData! > 0, 'handed straight to it');
      assert.ok(lent.pausedChunks > 0, 'also while it was paused (the SSH window bounds what arrives)');
      assert.equal(kept.lentChunks, 0, 'an unregistered consumer never sees lent memory');
      assert.ok(delta.copiedChannelData! > 0 && delta.copiedPayloads! > 0);
    });
  }
});
