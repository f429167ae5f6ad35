/**
 * The event manager's "IP blocked" trigger (4): when the defender bans a
 * host, the rule's actions run with SFTPGo's params (event "IP Blocked", the
 * address, status OK). Actions about users or folders are refused on save.
 * The ban comes from real failed logins (curl over FTP).
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { run } from '../sftpd/openssh';
import { startEventsEnv, startReceiver, type EventsEnv, type Receiver } from './env';

let env: EventsEnv;
let rec: Receiver;

before(async () => {
  rec = await startReceiver();
  env = await startEventsEnv((c) => {
    c.common.defender.enabled = true;
    c.common.defender.threshold = 4; // two logins with an unknown user (score 2 each)
    c.common.defender.score_limit_exceeded = 2;
  });
});

after(async () => {
  await env?.stop();
  await rec?.close();
});

test('a defender ban runs the IP blocked rules with the address; user-bound actions are refused on save', async () => {
  const made = async (path: string, body: unknown): Promise<void> => {
    const r = await env.api('POST', path, body);
    assert.equal(r.status, 201, JSON.stringify(r.json));
  };
  await made('/api/v2/eventactions', {
    name: 'tell-ban', type: 1, options: { http_config: { endpoint: `${rec.url}/banned/{{.IP}}?event={{.Event}}&status={{.StatusString}}`, method: 'GET', timeout: 10 } },
  });
  await made('/api/v2/eventactions', { name: 'quota-reset', type: 5 });
  const refused = await env.api('POST', '/api/v2/eventrules', { name: 'bad-ban', status: 1, trigger: 4, conditions: { options: {} }, actions: [{ name: 'quota-reset' }] });
  assert.equal(refused.status, 400);
  assert.match(JSON.stringify(refused.json), /User quota reset.*not supported for event trigger \\"IP blocked\\"/);
  await made('/api/v2/eventrules', {
    name: 'on-ban', status: 1, trigger: 4, conditions: { fs_events: ['upload'], options: { names: [{ pattern: 'x' }] } }, actions: [{ name: 'tell-ban' }],
  });
  const stored = (await env.api('GET', '/api/v2/eventrules/on-ban')).json as { conditions: { fs_events?: string[]; options: { names?: unknown[] } } };
  assert.deepEqual(stored.conditions.fs_events ?? [], [], 'conditions are cleared, as SFTPGo');
  assert.deepEqual(stored.conditions.options.names ?? [], []);

  for (let i = 0; i < 2; i++) {
    const r = await run('curl', ['-s', '--max-time', '20', '-u', 'nobody:wrong', `ftp://127.0.0.1:${env.ports.ftp}/`]);
    assert.notEqual(r.status, 0);
  }
  await env.app.ctx.events.drain();
  const bans = rec.requests.filter((r) => r.url.pathname.startsWith('/banned/'));
  assert.equal(bans.length, 1, 'one ban, one run');
  assert.equal(bans[0]?.url.pathname, '/banned/127.0.0.1');
  assert.equal(bans[0]?.url.searchParams.get('event'), 'IP Blocked');
  assert.equal(bans[0]?.url.searchParams.get('status'), 'OK');
  // the host is banned for real: the next connection is refused and no second run happens
  const again = await run('curl', ['-s', '--max-time', '20', '-u', 'nobody:wrong', `ftp://127.0.0.1:${env.ports.ftp}/`]);
  assert.notEqual(again.status, 0);
  await env.app.ctx.events.drain();
  assert.equal(rec.requests.filter((r) => r.url.pathname.startsWith('/banned/')).length, 1);
});
