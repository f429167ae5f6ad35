/**
 * common.rate_limiters on live listeners, with the perimeter's clock in the
 * test's hand: a burst passes, the next connection is refused (HTTP 429,
 * SSH closed before the handshake), the same client passes once the period
 * has gone by; other protocols and the safe list are not limited; refusals
 * feed the defender when generate_defender_events is on.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { startPerimeterApp } from './env';
import { basic, dial, httpGet, sshLogin } from './peers';

test('a per-source limiter refuses a burst, lets traffic through after the period, feeds the defender', async (t) => {
  let now = Date.now();
  const env = await startPerimeterApp((c) => {
    c.common.defender.enabled = true;
    c.common.defender.threshold = 5;
    c.common.defender.score_limit_exceeded = 3;
    c.common.rate_limiters = [{
      average: 1, period: 1000, burst: 2, type: 2, protocols: ['HTTP', 'SSH'], generate_defender_events: true,
      entries_soft_limit: 100, entries_hard_limit: 150,
    }];
  }, { now: () => now, wait: async (ms) => { now += ms; } });
  t.after(() => env.close());
  await env.addUser('alice', 'alice-pw');
  await env.app.ctx.provider.backend.perimeter.addIpListEntry({ ipornet: '127.0.0.42/32', type: 3, mode: 1, protocols: 0, created_at: 0, updated_at: 0 });
  await env.app.ctx.perimeter.reloadIpLists();

  const get = (from: string) => httpGet(env.http, '/healthz', { localAddress: from });
  assert.equal((await get('127.0.0.40')).status, 200);
  assert.equal((await get('127.0.0.40')).status, 200);
  const refused = await get('127.0.0.40');
  assert.equal(refused.status, 429);
  assert.equal((await get('127.0.0.44')).status, 200, 'another source has its own bucket');
  now += 1000;
  assert.equal((await get('127.0.0.40')).status, 200, 'one token back after the period');

  for (let i = 0; i < 5; i++) assert.equal((await get('127.0.0.42')).status, 200, 'rate limiters safe list');

  assert.equal(await sshLogin(env.ssh, 'alice', 'alice-pw', { localAddress: '127.0.0.41' }), 'ok');
  assert.equal(await sshLogin(env.ssh, 'alice', 'alice-pw', { localAddress: '127.0.0.41' }), 'ok');
  assert.notEqual(await sshLogin(env.ssh, 'alice', 'alice-pw', { localAddress: '127.0.0.41' }), 'ok');
  now += 1000;
  assert.equal(await sshLogin(env.ssh, 'alice', 'alice-pw', { localAddress: '127.0.0.41' }), 'ok');

  // FTP is not limited
  for (let i = 0; i < 4; i++) {
    const s = await dial(env.ftp, { localAddress: '127.0.0.40' });
    const banner = await new Promise<string>((resolve) => {
      s.once('data', (d: Buffer) => resolve(d.toString('latin1')));
      s.once('close', () => resolve(''));
    });
    s.destroy();
    assert.match(banner, /^220 /);
  }

  // two refusals of score 3 reach threshold 5: the source is banned and shows in the API
  const flood = '127.0.0.43';
  await get(flood);
  await get(flood);
  assert.equal((await get(flood)).status, 429);
  assert.equal((await get(flood)).status, 429);
  assert.equal((await get(flood)).status, 403, 'banned now, refused before the limiter');
  const tk = JSON.parse((await httpGet(env.http, '/api/v2/token', { headers: { Authorization: basic('admin', 'adminpw') } })).body) as { access_token: string };
  const hosts = await fetch(`http://127.0.0.1:${env.http}/api/v2/defender/hosts`, { headers: { Authorization: `Bearer ${tk.access_token}` } });
  const list = await hosts.json() as { ip: string; ban_time?: string; id: string }[];
  const banned = list.find((h) => h.ip === flood);
  assert.ok(banned?.ban_time, JSON.stringify(list));
  assert.equal(banned?.id, Buffer.from(flood).toString('hex'));
  const lines = await env.logLines();
  assert.ok(lines.some((l) => l.sender === 'defender' && l.client_ip === flood && l.event === 'banned'));
  assert.ok(lines.some((l) => l.sender === 'defender' && l.client_ip === flood && l.event === 'LimitExceeded' && l.increase_score_by === 3));
});
