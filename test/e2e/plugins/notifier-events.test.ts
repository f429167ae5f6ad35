/**
 * A notifier plugin (a separate Node process speaking go-plugin over gRPC)
 * told of provider events and login log events in the whole application:
 * users added and deleted by an administrator over the REST API (the
 * object's JSON without its password hash; objects not listed are not
 * sent), and SFTPGo's five log events from real clients: OpenSSH sftp
 * logging in (5), a wrong password (1), an unknown user (2), a client gone
 * without trying (3), an SSH client whose key exchange cannot be agreed (4).
 * A plugin that dies before answering gets the event again from the retry
 * queue once it is restarted.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { join } from 'node:path';
import { Client } from 'ssh2';
import { loadConfig } from '../../../src/config';
import { startHooksEnv, type HooksEnv } from '../hooks/env';
import { freePort } from '../../support/net';
import { pluginConfig, writePluginLauncher } from '../../support/plugin-fixtures';

interface Recorded { kind: string; action?: string; object_type?: string; object_name?: string; username?: string; ip?: string;
  role?: string; object_data?: Record<string, unknown> | null; event?: number; protocol?: string; message?: string; timestamp?: number }

let env: HooksEnv;
let events: string;
let api: string;

before(async () => {
  const httpPort = await freePort();
  api = `http://127.0.0.1:${httpPort}/api/v2`;
  env = await startHooksEnv((c, dir) => {
    const defaults = loadConfig({ configDir: dir, env: {} });
    c.httpd.bindings = [{ ...defaults.httpd.bindings[0]!, port: httpPort, address: '127.0.0.1', enable_web_admin: false, enable_web_client: false }];
    events = join(dir, 'events.jsonl');
    writeFileSync(events, '');
    c.plugins = [pluginConfig('notifier', writePluginLauncher(dir, 'notifier-plugin', 'notifier'), {
      args: [`--out=${events}`, '--crash-once-on=logcrash'],
      notifier_options: {
        fs_events: [], provider_events: ['add', 'delete'], provider_objects: ['user'], log_events: [1, 2, 3, 4, 5],
        retry_max_time: 60, retry_queue_max_size: 100,
      },
    })];
  });
  await env.app.ctx.provider.addAdmin({ username: 'boss', password: 'boss-pw-123', status: 1, permissions: ['*'] });
});

after(async () => {
  await env?.stop();
});

function recorded(): Recorded[] {
  return readFileSync(events, 'utf8').split('\n').filter((l) => l !== '').map((l) => JSON.parse(l) as Recorded);
}

/** Bounded wait for an event the server sends in the background. */
async function waitFor(what: string, pred: (e: Recorded) => boolean, timeoutMs = 30_000): Promise<Recorded> {
  const end = Date.now() + timeoutMs;
  while (Date.now() < end) {
    const hit = recorded().find(pred);
    if (hit) return hit;
    await new Promise((r) => setTimeout(r, 100));
  }
  assert.fail(`timed out waiting for ${what}; recorded: ${readFileSync(events, 'utf8')}`);
}

async function rest(method: string, path: string, token: string, body?: unknown): Promise<number> {
  const res = await fetch(`${api}${path}`, {
    method, headers: { authorization: `Bearer ${token}`, ...(body ? { 'content-type': 'application/json' } : {}) },
    body: body ? JSON.stringify(body) : undefined,
  });
  await res.arrayBuffer();
  return res.status;
}

test('provider events: a user added and deleted over the REST API, without the password hash; unlisted objects are not sent', { timeout: 120_000 }, async () => {
  const tokenRes = await fetch(`${api}/token`, { headers: { authorization: `Basic ${Buffer.from('boss:boss-pw-123').toString('base64')}` } });
  assert.equal(tokenRes.status, 200);
  const { access_token: token } = await tokenRes.json() as { access_token: string };
  assert.equal(await rest('POST', '/users', token, {
    username: 'restuser', password: 'rest-pw-123', status: 1, home_dir: join(env.dir, 'homes', 'restuser'), permissions: { '/': ['*'] },
  }), 201);
  const added = await waitFor('the add event', (e) => e.kind === 'provider' && e.action === 'add');
  assert.equal(added.object_type, 'user');
  assert.equal(added.object_name, 'restuser');
  assert.equal(added.username, 'boss');
  assert.equal(added.ip, '127.0.0.1');
  assert.equal(added.object_data?.username, 'restuser');
  assert.equal(added.object_data?.password, undefined, 'no password hash in the object');
  assert.ok(Number(added.timestamp) > Date.now() * 1e6 - 600e9, 'timestamp in nanoseconds');

  assert.equal(await rest('POST', '/folders', token, { name: 'shared', mapped_path: join(env.dir, 'shared') }), 201);
  assert.equal(await rest('DELETE', '/users/restuser', token), 200);
  const deleted = await waitFor('the delete event', (e) => e.kind === 'provider' && e.action === 'delete');
  assert.equal(deleted.object_name, 'restuser');
  assert.ok(!recorded().some((e) => e.kind === 'provider' && e.object_type === 'folder'), 'folders are not in provider_objects');
});

/** Connects, sends an SSH identification line and leaves without a key exchange or a login. */
function identOnly(port: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const s = net.connect({ host: '127.0.0.1', port }, () => s.end('SSH-2.0-probe\r\n'));
    s.on('error', reject);
    s.on('data', () => undefined);
    s.on('close', () => resolve());
  });
}

/** An SSH client offering only a key exchange the server does not have. */
function noCommonKex(port: number): Promise<string> {
  return new Promise((resolve) => {
    const c = new Client();
    c.on('error', (e) => { c.end(); resolve(e.message); });
    c.on('ready', () => { c.end(); resolve('connected'); });
    c.connect({ host: '127.0.0.1', port, username: 'x', password: 'y', readyTimeout: 20_000, algorithms: { kex: ['diffie-hellman-group1-sha1'] } });
  });
}

test('log events from real clients: login OK, wrong password, unknown user, no login tried, not negotiated', { timeout: 120_000 }, async () => {
  await env.app.ctx.provider.addUser({ username: 'local', password: 'local-pw-123', status: 1, home_dir: join(env.dir, 'homes', 'local'), permissions: { '/': ['*'] } });
  const ok = await env.sftpPassword('local', 'local-pw-123', ['pwd']);
  assert.equal(ok.status, 0, ok.stderr);
  const okEv = await waitFor('login OK', (e) => e.kind === 'log' && e.event === 5 && e.username === 'local');
  assert.equal(okEv.protocol, 'SSH');
  assert.equal(okEv.ip, '127.0.0.1');
  assert.equal(okEv.message, '');

  assert.notEqual((await env.sftpPassword('local', 'wrong-pw', ['pwd'])).status, 0);
  const failed = await waitFor('login failed', (e) => e.kind === 'log' && e.event === 1 && e.username === 'local');
  assert.notEqual(failed.message, '');
  assert.notEqual((await env.sftpPassword('nobody', 'x', ['pwd'])).status, 0);
  await waitFor('unknown user', (e) => e.kind === 'log' && e.event === 2 && e.username === 'nobody');

  await identOnly(env.ports.sftp);
  const noLogin = await waitFor('no login tried', (e) => e.kind === 'log' && e.event === 3);
  assert.equal(noLogin.username, '');
  assert.equal(noLogin.protocol, 'SSH');

  assert.match(await noCommonKex(env.ports.sftp), /handshake|key exchange|kex/i);
  const notNegotiated = await waitFor('not negotiated', (e) => e.kind === 'log' && e.event === 4);
  assert.equal(notNegotiated.protocol, 'SSH');
  assert.match(String(notNegotiated.message), /no matching key exchange algorithm/);
  assert.ok(!readFileSync(events, 'utf8').includes('local-pw-123') && !readFileSync(events, 'utf8').includes('wrong-pw'), 'no password in any event');
});

test('an event the plugin died on is queued and delivered once the plugin is restarted', { timeout: 120_000 }, async () => {
  assert.notEqual((await env.sftpPassword('logcrash', 'x', ['pwd'])).status, 0);
  const ev = await waitFor('the retried log event', (e) => e.kind === 'log' && e.username === 'logcrash');
  assert.equal(ev.event, 2);
  assert.ok(existsSync(`${events}.crashed`), 'the first plugin process died on this event');
  const log = await env.logText();
  assert.match(log, /unable to send log event 2 notification to notifier plugin/);
  assert.match(log, /sending \d+ queued events to notifier plugin/);
});
