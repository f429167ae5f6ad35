/**
 * The event manager's user and folder quota reset actions on storage other
 * than the local disk (SFTPGo's ScanQuota works on every backend): a home
 * and a folder on HTTPFs services take the services' `dirsize` figures
 * (one call each, no walk); a service that is down fails the action and
 * leaves the stored usage alone.
 */
import assert from 'node:assert/strict';
import { promises as fsp } from 'node:fs';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { httpconfig, startHttpFsServer, type TestHttpFs } from '../../support/httpfs-server';
import { startEventsEnv, type EventsEnv } from './env';

let env: EventsEnv;
let home: TestHttpFs;
let folder: TestHttpFs;
let down: TestHttpFs;

before(async () => {
  env = await startEventsEnv(() => undefined);
  home = await startHttpFsServer();
  folder = await startHttpFsServer();
  down = await startHttpFsServer({ answer: { dirsize: 503 } });
  await fsp.mkdir(path.join(home.root, 'd'));
  await fsp.writeFile(path.join(home.root, 'a.bin'), Buffer.alloc(700));
  await fsp.writeFile(path.join(home.root, 'd', 'b.bin'), Buffer.alloc(70));
  await fsp.writeFile(path.join(folder.root, 'c.bin'), Buffer.alloc(7));
  await ok('POST', '/api/v2/folders', { name: 'remote', filesystem: { provider: 6, httpconfig: httpconfig(folder) } });
  await ok('POST', '/api/v2/users', {
    username: 'hq', password: 'hq-pw', status: 1, home_dir: env.homeOf('hq'), permissions: { '/': ['*'] },
    filesystem: { provider: 6, httpconfig: httpconfig(home) },
    // counted in the user's quota (-1): the folder's figures are added
    virtual_folders: [{ name: 'remote', virtual_path: '/remote', quota_size: -1, quota_files: -1 }],
  });
  await ok('POST', '/api/v2/users', {
    username: 'hdown', password: 'hd-pw', status: 1, home_dir: env.homeOf('hdown'), permissions: { '/': ['*'] },
    filesystem: { provider: 6, httpconfig: httpconfig(down) },
  });
  await ok('POST', '/api/v2/eventactions', { name: 'user-quota', type: 5, options: {} });
  await ok('POST', '/api/v2/eventactions', { name: 'folder-quota', type: 6, options: {} });
});

after(async () => {
  await env?.stop();
  await home?.stop();
  await folder?.stop();
  await down?.stop();
});

async function ok(method: string, p: string, body: unknown, status = 201): Promise<void> {
  const r = await env.api(method, p, body);
  assert.equal(r.status, status, JSON.stringify(r.json));
}

async function runRule(name: string, pattern: string, action: string): Promise<void> {
  await ok('POST', '/api/v2/eventrules', {
    name, status: 1, trigger: 6, conditions: { options: { names: [{ pattern }] } }, actions: [{ name: action, order: 1 }],
  });
  assert.equal((await env.api('POST', `/api/v2/eventrules/run/${name}`)).status, 202);
  await env.app.ctx.events.drain();
}

test('quota reset actions on HTTPFs storage store the services\' dirsize figures, one call each', async () => {
  await runRule('reset-hq', 'hq', 'user-quota');
  const u = await env.app.ctx.provider.getUser('hq');
  assert.deepEqual([u?.used_quota_size, u?.used_quota_files], [777, 3]);
  assert.deepEqual(home.requests, ['GET dirsize /']);
  assert.deepEqual(folder.requests, ['GET dirsize /']);
  await runRule('reset-remote', 'remote', 'folder-quota');
  const f = await env.app.ctx.provider.getFolder('remote');
  assert.deepEqual([f?.used_quota_size, f?.used_quota_files], [7, 1]);
  assert.deepEqual(folder.requests, ['GET dirsize /', 'GET dirsize /']);
});

test('a quota reset on a service that is down fails and leaves the stored usage alone', async () => {
  await env.app.ctx.provider.updateUserQuota('hdown', 4242, 42, true);
  await runRule('reset-hdown', 'hdown', 'user-quota');
  const u = await env.app.ctx.provider.getUser('hdown');
  assert.deepEqual([u?.used_quota_size, u?.used_quota_files], [4242, 42]);
  assert.deepEqual(down.requests, ['GET dirsize /']);
});
