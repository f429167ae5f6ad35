/**
 * The WebDAV login cache (`webdavd.cache.users`), observed through real
 * requests: a fresh login writes a `login` log line (cache hits do not), so
 * the number of those lines tells hits from misses. The cache's clock is
 * injected so expiration_time is checked without waiting minutes.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { startDav, type DavServer } from './harness';

async function propfind(srv: DavServer, user: string, password: string): Promise<number> {
  const r = await fetch(`${srv.url}/`, {
    method: 'PROPFIND',
    headers: { Authorization: `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`, Depth: '0' },
  });
  await r.arrayBuffer();
  return r.status;
}

async function logins(srv: DavServer, user: string): Promise<number> {
  return (await srv.readLog()).filter((l) => l['sender'] === 'login' && l['username'] === user).length;
}

describe('webdavd login cache: expiration_time and max_size', () => {
  let srv: DavServer;
  let clock = Date.parse('2030-01-01T00:00:00Z');

  before(async () => {
    srv = await startDav((c) => { c.webdavd.cache.users = { expiration_time: 1, max_size: 2 }; }, { now: () => clock });
    for (const u of ['ann', 'ben', 'cid']) await srv.createUser({ username: u, password: `${u}-pw` });
  });
  after(async () => { await srv.stop(); });

  test('a cached login is reused within expiration_time (minutes) and redone after it', async () => {
    assert.equal(await propfind(srv, 'ann', 'ann-pw'), 207);
    assert.equal(await logins(srv, 'ann'), 1);
    clock += 30_000;
    assert.equal(await propfind(srv, 'ann', 'ann-pw'), 207);
    assert.equal(await logins(srv, 'ann'), 1, 'served from the cache');
    clock += 31_000; // 61 s after the login: past the 1 minute expiration
    assert.equal(await propfind(srv, 'ann', 'ann-pw'), 207);
    assert.equal(await logins(srv, 'ann'), 2, 'expired: a fresh login');
  });

  test('a wrong password is never answered from the cache', async () => {
    assert.equal(await propfind(srv, 'ann', 'ann-pw'), 207);
    assert.equal(await propfind(srv, 'ann', 'not-the-pw'), 401);
    const failed = (await srv.readLog()).filter((l) => l['sender'] === 'connection_failed' && l['username'] === 'ann');
    assert.equal(failed.length, 1);
  });

  test('max_size: the oldest cached user is evicted', async () => {
    clock += 120_000; // everything cached so far has expired
    const before = { ann: await logins(srv, 'ann'), ben: await logins(srv, 'ben') };
    assert.equal(await propfind(srv, 'ann', 'ann-pw'), 207);
    assert.equal(await propfind(srv, 'ben', 'ben-pw'), 207);
    assert.equal(await propfind(srv, 'ann', 'ann-pw'), 207);
    assert.equal(await logins(srv, 'ann'), before.ann + 1, 'ann cached (cache holds ann, ben)');
    assert.equal(await propfind(srv, 'cid', 'cid-pw'), 207); // evicts the oldest entry
    assert.equal(await propfind(srv, 'ben', 'ben-pw'), 207);
    assert.equal(await propfind(srv, 'ann', 'ann-pw'), 207);
    const ann = await logins(srv, 'ann');
    const ben = await logins(srv, 'ben');
    assert.equal(ann + ben, before.ann + before.ben + 3, 'with 3 users and room for 2, one more fresh login happened');
  });
});

describe('webdavd login cache: expiration_time 0 and invalidation', () => {
  let srv: DavServer;
  let clock = Date.parse('2030-01-01T00:00:00Z');

  before(async () => {
    srv = await startDav((c) => { c.webdavd.cache.users = { expiration_time: 0, max_size: 0 }; }, { now: () => clock });
    for (const u of ['dee', 'eve', 'fay']) await srv.createUser({ username: u, password: `${u}-pw` });
  });
  after(async () => { await srv.stop(); });

  test('expiration_time 0: cached logins do not expire (as SFTPGo); max_size 0: no limit', async () => {
    for (const u of ['dee', 'eve', 'fay']) assert.equal(await propfind(srv, u, `${u}-pw`), 207);
    clock += 30 * 24 * 3600_000;
    for (const u of ['dee', 'eve', 'fay']) {
      assert.equal(await propfind(srv, u, `${u}-pw`), 207);
      assert.equal(await logins(srv, u), 1, `${u} still cached`);
    }
  });

  test('a password changed through the provider: the old one gets 401 at once, the new one logs in', async () => {
    assert.equal(await propfind(srv, 'dee', 'dee-pw'), 207);
    const u = await srv.ctx.provider.getUser('dee');
    assert.ok(u);
    await srv.ctx.provider.updateUser('dee', { ...u, password: 'dee-new-pw' });
    assert.equal(await propfind(srv, 'dee', 'dee-pw'), 401, 'the cached old password no longer works');
    assert.equal(await propfind(srv, 'dee', 'dee-new-pw'), 207);
    const n = await logins(srv, 'dee');
    assert.equal(await propfind(srv, 'dee', 'dee-new-pw'), 207);
    assert.equal(await logins(srv, 'dee'), n, 'the new password is cached in turn');
    assert.equal(await propfind(srv, 'dee', 'dee-pw'), 401);
  });

  test('a disabled or deleted user gets 401 at once although cached', async () => {
    assert.equal(await propfind(srv, 'eve', 'eve-pw'), 207);
    const u = await srv.ctx.provider.getUser('eve');
    assert.ok(u);
    await srv.ctx.provider.updateUser('eve', { ...u, status: 0 });
    assert.equal(await propfind(srv, 'eve', 'eve-pw'), 401);
    assert.equal(await propfind(srv, 'fay', 'fay-pw'), 207);
    await srv.ctx.provider.deleteUser('fay');
    assert.equal(await propfind(srv, 'fay', 'fay-pw'), 401);
  });
});
