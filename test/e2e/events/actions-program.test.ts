/**
 * common.actions and data_provider.actions as programs: the hook is a real
 * /bin/sh script run without a shell and with an empty environment plus
 * SFTPGo's variables; it records its environment and refuses pre-delete of
 * "*keep*" (exit 1), as a user's script would.
 */
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { startEventsEnv, type EventsEnv } from './env';

let env: EventsEnv;
let out: string;

async function envFiles(prefix: string): Promise<Record<string, string>[]> {
  const names = (await readdir(out)).filter((n) => n.startsWith(prefix)).sort();
  const res: Record<string, string>[] = [];
  for (const n of names) {
    const vars: Record<string, string> = {};
    // /usr/bin/env -0: NUL separated, so JSON values with newlines stay whole
    for (const kv of (await readFile(join(out, n), 'utf8')).split('\0')) {
      const i = kv.indexOf('=');
      if (i > 0) vars[kv.slice(0, i)] = kv.slice(i + 1);
    }
    res.push(vars);
  }
  return res;
}

before(async () => {
  env = await startEventsEnv(async (c, dir) => {
    out = join(dir, 'hook-out');
    const { mkdir } = await import('node:fs/promises');
    await mkdir(out);
    const fsHook = join(dir, 'fs-hook.sh');
    await writeFile(fsHook, [
      '#!/bin/sh',
      `/usr/bin/env -0 > "${out}/fs-$SFTPGO_ACTION-$$"`,
      'case "$SFTPGO_ACTION-$SFTPGO_ACTION_VIRTUAL_PATH" in pre-delete-*keep*) exit 1 ;; esac',
      'exit 0',
    ].join('\n') + '\n', { mode: 0o755 });
    const providerHook = join(dir, 'provider-hook.sh');
    await writeFile(providerHook, `#!/bin/sh\n/usr/bin/env -0 > "${out}/provider-$SFTPGO_PROVIDER_ACTION-$$"\n`, { mode: 0o755 });
    c.common.actions = { execute_on: ['upload', 'pre-delete', 'delete', 'mkdir'], execute_sync: ['mkdir'], hook: fsHook };
    c.data_provider.actions = { execute_on: ['add', 'delete'], execute_for: ['user'], hook: providerHook };
    c.command.env = ['FROM_COMMAND_SECTION=1'];
  });
  await env.api('POST', '/api/v2/users', {
    username: 'carol', password: 'carol-pw', status: 1, home_dir: env.homeOf('carol'), permissions: { '/': ['*'] },
    public_keys: [env.key.publicKey],
  });
});

after(async () => { await env?.stop(); });

test('an upload runs the program with exactly SFTPGo\'s variables and nothing from the daemon', async () => {
  await writeFile(join(env.local, 'f.bin'), Buffer.alloc(1000, 1));
  const r = await env.sftp('carol', `put ${join(env.local, 'f.bin')} /f.bin`, 'mkdir /sub');
  assert.equal(r.status, 0, r.stderr);
  await env.app.ctx.events.drain();
  const [up] = await envFiles('fs-upload-');
  assert.ok(up, 'the program ran for the upload');
  assert.deepEqual(Object.keys(up).filter((k) => k.startsWith('SFTPGO_')).sort(), [
    'SFTPGO_ACTION', 'SFTPGO_ACTION_BUCKET', 'SFTPGO_ACTION_ELAPSED', 'SFTPGO_ACTION_ENDPOINT', 'SFTPGO_ACTION_FILE_SIZE',
    'SFTPGO_ACTION_FS_PROVIDER', 'SFTPGO_ACTION_IP', 'SFTPGO_ACTION_OPEN_FLAGS', 'SFTPGO_ACTION_PATH', 'SFTPGO_ACTION_PROTOCOL',
    'SFTPGO_ACTION_ROLE', 'SFTPGO_ACTION_SESSION_ID', 'SFTPGO_ACTION_SSH_CMD', 'SFTPGO_ACTION_STATUS', 'SFTPGO_ACTION_TARGET',
    'SFTPGO_ACTION_TIMESTAMP', 'SFTPGO_ACTION_USERNAME', 'SFTPGO_ACTION_VIRTUAL_PATH', 'SFTPGO_ACTION_VIRTUAL_TARGET',
  ].sort());
  assert.equal(up.SFTPGO_ACTION, 'upload');
  assert.equal(up.SFTPGO_ACTION_USERNAME, 'carol');
  assert.equal(up.SFTPGO_ACTION_PATH, join(env.homeOf('carol'), 'f.bin'));
  assert.equal(up.SFTPGO_ACTION_VIRTUAL_PATH, '/f.bin');
  assert.equal(up.SFTPGO_ACTION_FILE_SIZE, '1000');
  assert.equal(up.SFTPGO_ACTION_STATUS, '1');
  assert.equal(up.SFTPGO_ACTION_PROTOCOL, 'SFTP');
  assert.equal(up.SFTPGO_ACTION_FS_PROVIDER, '0');
  assert.equal(up.SFTPGO_ACTION_IP, '127.0.0.1');
  assert.match(up.SFTPGO_ACTION_TIMESTAMP ?? '', /^\d{19}$/);
  // the command section's env is passed, the daemon's is not
  assert.equal(up.FROM_COMMAND_SECTION, '1');
  assert.equal(up.PATH, undefined);
  assert.equal(up.HOME, undefined);
  // mkdir is synchronous: it ran before the client got its answer
  const [mk] = await envFiles('fs-mkdir-');
  assert.equal(mk?.SFTPGO_ACTION_VIRTUAL_PATH, '/sub');
});

test('pre-delete: exit 1 refuses the delete, exit 0 lets it happen and delete follows', async () => {
  await writeFile(join(env.homeOf('carol'), 'keep.txt'), 'k');
  const refused = await env.sftp('carol', 'rm /keep.txt');
  assert.notEqual(refused.status, 0);
  assert.match(refused.stderr, /Permission denied/);
  assert.ok(existsSync(join(env.homeOf('carol'), 'keep.txt')));
  const ok = await env.sftp('carol', 'rm /f.bin');
  assert.equal(ok.status, 0, ok.stderr);
  await env.app.ctx.events.drain();
  const deletes = await envFiles('fs-delete-');
  assert.deepEqual(deletes.map((d) => d.SFTPGO_ACTION_VIRTUAL_PATH), ['/f.bin']);
  assert.equal(deletes[0]?.SFTPGO_ACTION_FILE_SIZE, '1000');
});

test('provider program: SFTPGO_PROVIDER_* for a user added and deleted through the REST API, object without secrets', async () => {
  assert.equal((await env.api('DELETE', '/api/v2/users/carol')).status, 200);
  await env.app.ctx.events.drain();
  const [add] = await envFiles('provider-add-');
  const [del] = await envFiles('provider-delete-');
  for (const [e, action] of [[add, 'add'], [del, 'delete']] as const) {
    assert.ok(e, action);
    assert.equal(e.SFTPGO_PROVIDER_ACTION, action);
    assert.equal(e.SFTPGO_PROVIDER_OBJECT_TYPE, 'user');
    assert.equal(e.SFTPGO_PROVIDER_OBJECT_NAME, 'carol');
    assert.equal(e.SFTPGO_PROVIDER_USERNAME, 'admin');
    assert.equal(e.SFTPGO_PROVIDER_IP, '127.0.0.1');
    assert.equal(e.SFTPGO_PROVIDER_ROLE, '');
    // SFTPGo's command form carries milliseconds
    assert.match(e.SFTPGO_PROVIDER_TIMESTAMP ?? '', /^\d{13}$/);
    const obj = JSON.parse(e.SFTPGO_PROVIDER_OBJECT ?? '{}') as Record<string, unknown>;
    assert.equal(obj.username, 'carol');
    assert.equal('password' in obj, false);
    assert.doesNotMatch(e.SFTPGO_PROVIDER_OBJECT ?? '', /carol-pw|\$2[aby]\$/);
  }
});
