import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { promises as fsp } from 'node:fs';
import path from 'node:path';
import { FsError } from '../../../src/common/errors';
import { sftpFsOptions } from '../../../src/vfs/sftpfs/config';
import { SftpConnectionPool } from '../../../src/vfs/sftpfs/pool';
import { SftpFs } from '../../../src/vfs/sftpfs/sftpfs';
import { freePort } from '../../support/net';
import { startSshd, type TestSshd } from '../../support/sshd';
import { listNames, readFile, runConformance, writeFile } from '../../support/vfs-conformance';

let sshd: TestSshd;
const warnings: string[] = [];
const pool = new SftpConnectionPool({ fingerprints: async () => [], allowed: false, forbiddenSelfUser: async () => false }, (m) => warnings.push(m));
before(async () => { sshd = await startSshd(); });
after(async () => { await sshd?.stop(); });

function config(prefix: string, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    endpoint: `127.0.0.1:${sshd.port}`, username: sshd.user, private_key: { status: 'Plain', payload: sshd.key.privateKey },
    fingerprints: [sshd.fingerprint], prefix, ...extra,
  };
}

function makeFs(prefix: string, extra: Record<string, unknown> = {}, p = pool): SftpFs {
  return new SftpFs(sftpFsOptions(config(prefix, extra)), { pool: p, decrypt: async (s) => s.payload ?? '', warn: (m) => warnings.push(m) });
}

runConformance('sftpfs', async () => {
  const root = path.join(sshd.dir, 'cases', randomBytes(6).toString('hex'));
  return { fs: makeFs(root), cleanup: async () => { await fsp.rm(root, { recursive: true, force: true }); } };
}, { big: 3 * 1024 * 1024 + 4321 });

const kindIs = (kind: string) => (e: unknown): boolean => e instanceof FsError && e.kind === kind;

test('sftpfs jail: remote symlinks pointing outside the prefix never let the user out', async () => {
  const root = path.join(sshd.dir, 'jail', 'home');
  const outside = path.join(sshd.dir, 'jail', 'outside');
  await fsp.mkdir(outside, { recursive: true });
  await fsp.writeFile(path.join(outside, 'secret.txt'), 'top secret');
  const fs = makeFs(root);
  try {
    await fs.ensureRoot();
    await writeFile(fs, '/ok.txt', Buffer.from('inside'));
    await fsp.symlink(outside, path.join(root, 'escape'));
    await fsp.symlink(path.join(outside, 'secret.txt'), path.join(root, 'secret-link'));
    await fsp.symlink(path.join(outside, 'new.txt'), path.join(root, 'dangling'));
    await fsp.symlink(path.join(root, 'ok.txt'), path.join(root, 'inner-link'));
    await assert.rejects(fs.stat('/escape/secret.txt'), kindIs('PermissionDenied'));
    await assert.rejects(fs.openRead('/secret-link'), kindIs('PermissionDenied'));
    await assert.rejects(listNames(fs, '/escape'), kindIs('PermissionDenied'));
    await assert.rejects(fs.openWrite('/escape/planted', { create: true, truncate: true, append: false, exclusive: false, read: false }), kindIs('PermissionDenied'));
    await assert.rejects(fs.openWrite('/dangling', { create: true, truncate: true, append: false, exclusive: false, read: false }), kindIs('PermissionDenied'));
    await assert.rejects(fs.mkdir('/escape/d'), kindIs('PermissionDenied'));
    await assert.rejects(fs.rename('/ok.txt', '/escape/stolen'), kindIs('PermissionDenied'));
    await assert.rejects(fs.setStat('/secret-link', { mode: 0o777 }), kindIs('PermissionDenied'));
    await assert.rejects(fsp.stat(path.join(outside, 'new.txt')), /ENOENT/);
    await assert.rejects(fsp.stat(path.join(outside, 'planted')), /ENOENT/);
    assert.equal((await fsp.stat(path.join(outside, 'secret.txt'))).mode & 0o777, 0o644);
    // a link that stays inside works; removing a link removes the link, not its target
    assert.equal((await readFile(fs, '/inner-link')).toString(), 'inside');
    await fs.remove('/secret-link');
    assert.equal(await fsp.readFile(path.join(outside, 'secret.txt'), 'utf8'), 'top secret');
  } finally {
    await fs.close();
  }
});

test('sftpfs: a wrong host key fingerprint is refused; a server that is down fails fast with a log line', async () => {
  const fp = makeFs(path.join(sshd.dir, 'fp'), { fingerprints: ['SHA256:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA'] });
  await assert.rejects(fp.stat('/'), (e: unknown) => e instanceof FsError && /invalid host key fingerprint SHA256:/.test(e.message));
  await fp.close();
  const dead = new SftpFs(sftpFsOptions({ ...config('/'), endpoint: `127.0.0.1:${await freePort()}` }),
    { pool, decrypt: async (s) => s.payload ?? '', warn: (m) => warnings.push(m) });
  await assert.rejects(dead.stat('/x'), kindIs('Unavailable'));
  assert.ok(warnings.some((w) => w.includes('ECONNREFUSED')), warnings.join('\n'));
  await dead.close();
  // the loop guard: this server's own host key is refused unless self connections are allowed
  const selfPool = new SftpConnectionPool({ fingerprints: async () => [sshd.fingerprint], allowed: false, forbiddenSelfUser: async () => false }, () => undefined);
  const self = makeFs(path.join(sshd.dir, 'self'), {}, selfPool);
  await assert.rejects(self.stat('/'), /self connections are not allowed/);
  await self.close();
});

test('sftpfs: one pooled connection per (endpoint, user) shared by several backends', async () => {
  const a = makeFs(path.join(sshd.dir, 'pool-a'));
  const b = makeFs(path.join(sshd.dir, 'pool-b'));
  await a.ensureRoot();
  await b.ensureRoot();
  await writeFile(a, '/x', randomBytes(100));
  await writeFile(b, '/y', randomBytes(200));
  const p = pool as unknown as { entries: Map<string, unknown> };
  assert.equal(p.entries.size, 1);
  await a.close();
  assert.equal(p.entries.size, 1, 'still used by b');
  await b.close();
  assert.equal(p.entries.size, 0);
});
