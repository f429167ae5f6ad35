/** SCP with the OpenSSH client: legacy protocol (`scp -O`, served in-process) and the SFTP-based default. */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { promises as fsp } from 'node:fs';
import path from 'node:path';
import { startSftpServer, type TestSftpServer } from '../../support/server';
import { writeKeyPair, type TestKeyPair } from '../../support/sshkeys';
import { Client } from 'ssh2';
import { keyOpts, run } from './openssh';

async function makeTree(root: string): Promise<void> {
  await fsp.mkdir(path.join(root, 'sub', 'deeper'), { recursive: true });
  await fsp.mkdir(path.join(root, 'empty'), { recursive: true });
  await fsp.writeFile(path.join(root, 'a.bin'), randomBytes(300 * 1024 + 17));
  await fsp.writeFile(path.join(root, 'zero.txt'), '');
  await fsp.writeFile(path.join(root, 'sub', 'b.txt'), 'bee\n');
  await fsp.writeFile(path.join(root, 'sub', 'deeper', 'name with space.txt'), 'spaced\n');
  const old = new Date('2020-01-02T03:04:05Z');
  await fsp.utimes(path.join(root, 'sub', 'b.txt'), old, old);
}

async function assertSameTree(a: string, b: string): Promise<void> {
  const la = (await fsp.readdir(a)).sort();
  const lb = (await fsp.readdir(b)).sort();
  assert.deepEqual(lb, la, `${b} vs ${a}`);
  for (const n of la) {
    const sa = await fsp.stat(path.join(a, n));
    if (sa.isDirectory()) await assertSameTree(path.join(a, n), path.join(b, n));
    else assert.ok((await fsp.readFile(path.join(a, n))).equals(await fsp.readFile(path.join(b, n))), n);
  }
}

describe('sftpd: scp', () => {
  let srv: TestSftpServer;
  let key: TestKeyPair;
  let local: string;

  before(async () => {
    srv = await startSftpServer();
    key = await writeKeyPair(srv.configDir, 'scp_key');
    await srv.createUser({ username: 'sam', public_keys: [key.publicKey] });
    await srv.createUser({ username: 'reader', public_keys: [key.publicKey], permissions: { '/': ['list', 'download'] } });
    local = path.join(srv.configDir, 'local');
    await makeTree(path.join(local, 'tree'));
  });
  after(async () => { await srv?.stop(); });

  const scp = (args: string[], user = 'sam') =>
    run('scp', ['-P', String(srv.port), ...keyOpts(key.privateKeyPath), ...args.map((a) => a.replace('@R:', `${user}@127.0.0.1:`))]);

  test('scp -O: upload a tree with -r -p, download it back', async () => {
    const up = await scp(['-O', '-r', '-p', path.join(local, 'tree'), '@R:/']);
    assert.equal(up.status, 0, up.stderr);
    const home = srv.homeOf('sam');
    await assertSameTree(path.join(local, 'tree'), path.join(home, 'tree'));
    const mtime = (await fsp.stat(path.join(home, 'tree', 'sub', 'b.txt'))).mtime;
    assert.equal(mtime.toISOString(), '2020-01-02T03:04:05.000Z', '-p preserved the modification time');

    const dst = path.join(local, 'down');
    await fsp.mkdir(dst);
    const down = await scp(['-O', '-r', '-p', '@R:/tree', dst]);
    assert.equal(down.status, 0, down.stderr);
    await assertSameTree(path.join(local, 'tree'), path.join(dst, 'tree'));
    const m2 = (await fsp.stat(path.join(dst, 'tree', 'sub', 'b.txt'))).mtime;
    assert.equal(m2.toISOString(), '2020-01-02T03:04:05.000Z');
  });

  test('scp -O: single files, renamed target, spaces in names', async () => {
    const src = path.join(local, 'tree', 'sub', 'deeper', 'name with space.txt');
    // legacy scp hands the remote path to the server's command line: quote it as for a shell
    const up = await scp(['-O', src, "@R:'/renamed file.txt'"]);
    assert.equal(up.status, 0, up.stderr);
    assert.equal(await fsp.readFile(path.join(srv.homeOf('sam'), 'renamed file.txt'), 'utf8'), 'spaced\n');
    const out = path.join(local, 'single.txt');
    // (a backslash, not quotes: the client matches the received name against this pattern)
    const down = await scp(['-O', '@R:/renamed\\ file.txt', out]);
    assert.equal(down.status, 0, down.stderr);
    assert.equal(await fsp.readFile(out, 'utf8'), 'spaced\n');
  });

  test('scp -O: errors are reported, permissions apply', async () => {
    const missing = await scp(['-O', '@R:/does-not-exist', path.join(local, 'x')]);
    assert.notEqual(missing.status, 0);
    assert.match(missing.stderr, /does-not-exist/);
    const noRecurse = await scp(['-O', '@R:/tree', path.join(local, 'y')]);
    assert.notEqual(noRecurse.status, 0, 'a directory without -r');
    // `reader` may download but not upload
    await fsp.mkdir(srv.homeOf('reader'), { recursive: true });
    await fsp.writeFile(path.join(srv.homeOf('reader'), 'r.txt'), 'readable\n');
    const denied = await scp(['-O', path.join(local, 'tree', 'a.bin'), '@R:/a.bin'], 'reader');
    assert.notEqual(denied.status, 0);
    await assert.rejects(fsp.access(path.join(srv.homeOf('reader'), 'a.bin')));
    const ok = await scp(['-O', '@R:/r.txt', path.join(local, 'r.txt')], 'reader');
    assert.equal(ok.status, 0, ok.stderr);
    assert.equal(await fsp.readFile(path.join(local, 'r.txt'), 'utf8'), 'readable\n');
  });

  test('scp without -O (SFTP protocol) both ways', async () => {
    const up = await scp(['-r', path.join(local, 'tree'), '@R:/viasftp']);
    assert.equal(up.status, 0, up.stderr);
    await assertSameTree(path.join(local, 'tree'), path.join(srv.homeOf('sam'), 'viasftp'));
    const dst = path.join(local, 'down-sftp');
    const down = await scp(['-r', '@R:/viasftp', dst]);
    assert.equal(down.status, 0, down.stderr);
    await assertSameTree(path.join(local, 'tree'), dst);
  });

  test('scp sink: traversal names and garbage records are refused', async () => {
    const exchange = (command: string, records: Buffer): Promise<{ out: Buffer; code: number | undefined }> =>
      new Promise((resolve, reject) => {
        const c = new Client();
        c.on('error', reject);
        c.on('ready', () => c.exec(command, (err, ch) => {
          if (err) { reject(err); return; }
          const chunks: Buffer[] = [];
          let code: number | undefined;
          ch.on('data', (d: Buffer) => chunks.push(d));
          ch.on('exit', (n: number) => { code = n; });
          ch.on('close', () => { c.end(); resolve({ out: Buffer.concat(chunks), code }); });
          ch.end(records);
        }));
        c.connect({ host: '127.0.0.1', port: srv.port, username: 'sam', privateKey: key.privateKey });
      });
    for (const rec of ['C0644 5 ../evil\nhello\0', 'C0644 5 a/b\nhello\0', 'D0755 0 ..\nE\n', 'X garbage\n', 'C0644 notanumber x\n']) {
      const r = await exchange('scp -r -t /', Buffer.from(rec));
      assert.equal(r.code, 1, rec);
      assert.equal(r.out[0], 0, 'ready byte first');
      assert.equal(r.out[1], 2, `fatal error record for ${JSON.stringify(rec)}`);
    }
    await assert.rejects(fsp.access(path.join(srv.homeOf('sam'), '..', 'evil')));
    await assert.rejects(fsp.access(path.join(srv.homeOf('sam'), 'evil')));
    // a well-formed upload over the same raw channel still works
    const ok = await exchange('scp -t /raw.txt', Buffer.from('C0600 5 whatever\nhello\0'));
    assert.equal(ok.code, 0);
    assert.equal(await fsp.readFile(path.join(srv.homeOf('sam'), 'raw.txt'), 'utf8'), 'hello');
  });

  test('transfers are logged with protocol SCP', async () => {
    const log = await srv.readLog();
    assert.ok(log.some((l) => l.sender === 'Upload' && l.protocol === 'SCP' && l.username === 'sam'));
    assert.ok(log.some((l) => l.sender === 'Download' && l.protocol === 'SCP'));
    assert.ok(log.some((l) => l.sender === 'Upload' && l.protocol === 'SFTP'));
  });
});
