/**
 * The event manager's IDP login trigger (7) and IDP account check action (13):
 * validation as SFTPGo (the check only on IDP login rules, sync, alone among
 * sync actions; idp_login_event 0/1/2), then the login path the OpenID
 * Connect callback calls (ctx.eventManager.idpLogin): a user created from the
 * template with {{.Name}} and {{.IDPField...}} placeholders, updated keeping
 * what the user owns, mode 1 leaving an existing account alone, an admin
 * created from its template, a template error refusing the login and running
 * the failure action; rules without sync actions only notify.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { startEventsEnv, startReceiver, type EventsEnv, type Receiver } from './env';

let env: EventsEnv;
let rec: Receiver;

before(async () => {
  rec = await startReceiver();
  env = await startEventsEnv(() => undefined);
});

after(async () => {
  await env?.stop();
  await rec?.close();
});

async function made(path: string, body: unknown): Promise<void> {
  const r = await env.api('POST', path, body);
  assert.equal(r.status, 201, JSON.stringify(r.json));
}

async function refused(path: string, body: unknown, why: RegExp): Promise<void> {
  const r = await env.api('POST', path, body);
  assert.equal(r.status, 400, JSON.stringify(r.json));
  assert.match(JSON.stringify(r.json), why);
}

test('IDP login rules: validation, account check for users and admins, notifications, failures refuse the login', async () => {
  const home = env.homeOf('');
  const userTemplate = JSON.stringify({
    username: '{{.Name}}', status: 1, home_dir: `${home}{{.Name}}`, permissions: { '/': ['*'] }, password: 'from-template-pw',
    description: 'dept {{.IDPFielddepartment}}', email: '{{.IDPFieldmail}}',
  });
  await refused('/api/v2/eventactions', { name: 'idp-none', type: 13, options: { idp_config: { mode: 0 } } }, /at least a template must be set/);
  await refused('/api/v2/eventactions', { name: 'idp-mode', type: 13, options: { idp_config: { mode: 2, template_user: '{}' } } }, /invalid account check mode: 2/);
  await made('/api/v2/eventactions', { name: 'idp-check', type: 13, options: { idp_config: { mode: 0, template_user: userTemplate,
    template_admin: JSON.stringify({ username: '{{.Name}}', status: 1, permissions: ['*'], email: '{{.IDPFieldmail}}' }) } } });
  await made('/api/v2/eventactions', { name: 'idp-notify', type: 1, options: { http_config: { endpoint: `${rec.url}/idp/{{.Event}}/{{.Name}}?err={{.ErrorString}}`, method: 'GET', timeout: 10 } } });
  await refused('/api/v2/eventrules', { name: 'r0', status: 1, trigger: 6, conditions: { options: {} }, actions: [{ name: 'idp-check', relation_options: { execute_sync: true } }] },
    /only supported for IDP login trigger/);
  await refused('/api/v2/eventrules', { name: 'r1', status: 1, trigger: 7, conditions: { options: {} }, actions: [{ name: 'idp-check' }] }, /must be a sync action/);
  await refused('/api/v2/eventrules', { name: 'r2', status: 1, trigger: 7, conditions: { idp_login_event: 3, options: {} }, actions: [{ name: 'idp-notify' }] },
    /invalid Identity Provider login event 3/);
  await made('/api/v2/eventrules', {
    name: 'idp-users', status: 1, trigger: 7, conditions: { idp_login_event: 0, options: { names: [{ pattern: 'oidc-*' }] } },
    actions: [{ name: 'idp-check', relation_options: { execute_sync: true } }, { name: 'idp-notify' }],
  });
  await made('/api/v2/eventrules', { name: 'idp-watch', status: 1, trigger: 7, conditions: { idp_login_event: 2, options: {} }, actions: [{ name: 'idp-notify' }] });

  // a user: created from the template, placeholders filled from the token's custom fields
  const fields = { department: 'R&D "lab"', mail: 'ann@example.com', groups: ['not', 'a', 'string'] };
  const first = await env.app.ctx.eventManager.idpLogin({ username: 'oidc-ann', admin: false, ip: '127.0.0.1', role: '', customFields: fields });
  assert.equal(first.user?.username, 'oidc-ann');
  const ann = await env.app.ctx.provider.getUser('oidc-ann');
  assert.equal(ann?.description, 'dept R&D "lab"');
  assert.equal(ann?.email, 'ann@example.com');
  assert.equal(ann?.home_dir, `${home}oidc-ann`);
  // the user changes what it owns; a later login keeps it (SFTPGo preserveUserProfile)
  await env.app.ctx.provider.updateUser('oidc-ann', { ...ann, password: 'changed-by-ann', description: 'my own words' });
  const changed = await env.app.ctx.provider.getUser('oidc-ann');
  await env.app.ctx.eventManager.idpLogin({ username: 'oidc-ann', admin: false, ip: '127.0.0.1', role: '', customFields: fields });
  const again = await env.app.ctx.provider.getUser('oidc-ann');
  assert.equal(again?.description, 'my own words');
  assert.equal(again?.password, changed?.password);
  assert.equal(again?.updated_at, changed?.updated_at, 'nothing else changed: not rewritten');

  // an admin: the admin template; the admin-only rule notifies too
  const adm = await env.app.ctx.eventManager.idpLogin({ username: 'oidc-boss', admin: true, ip: '127.0.0.1', role: '', customFields: fields });
  assert.equal(adm.admin?.username, 'oidc-boss');
  assert.equal((await env.app.ctx.provider.getAdmin('oidc-boss'))?.email, 'ann@example.com');

  // names outside the rules: nothing happens, the caller falls back to its own lookup
  assert.deepEqual(await env.app.ctx.eventManager.idpLogin({ username: 'someone', admin: false, ip: '127.0.0.1', role: '' }), {});

  await env.app.ctx.events.drain();
  const notes = rec.requests.filter((r) => r.url.pathname.startsWith('/idp/')).map((r) => decodeURIComponent(r.url.pathname));
  assert.deepEqual(notes.sort(), ['/idp/IDP login admin/oidc-boss', '/idp/IDP login admin/oidc-boss', '/idp/IDP login user/oidc-ann', '/idp/IDP login user/oidc-ann'].sort());

  // a template that does not give a valid user refuses the login; the failure is reported
  await made('/api/v2/eventactions', { name: 'idp-broken', type: 13, options: { idp_config: { mode: 0, template_user: '{"username":"{{.Name}}","status":1}' } } });
  await made('/api/v2/eventrules', {
    name: 'idp-broken-rule', status: 1, trigger: 7, conditions: { idp_login_event: 1, options: { names: [{ pattern: 'broken-*' }] } },
    actions: [{ name: 'idp-broken', relation_options: { execute_sync: true } }, { name: 'idp-notify', relation_options: { is_failure_action: true } }],
  });
  await assert.rejects(env.app.ctx.eventManager.idpLogin({ username: 'broken-bob', admin: false, ip: '127.0.0.1', role: '' }), /home_dir|permissions/);
  assert.equal(await env.app.ctx.provider.getUser('broken-bob'), undefined);
  await env.app.ctx.events.drain();
  const failure = rec.requests.find((r) => r.url.pathname.includes('broken-bob'));
  assert.match(failure?.url.searchParams.get('err') ?? '', /unable to handle "IDP login user"/);
});
