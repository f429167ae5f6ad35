/**
 * The OpenAPI document must list exactly the registered routes. The route
 * list comes from an independent onRoute spy installed before any route.
 * openapi/openapi.yaml (repo root) is the committed copy; run this test with
 * UPDATE_OPENAPI=1 to rewrite it after changing routes.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import * as yaml from 'js-yaml';
import { buildApp } from '../../../src/httpd/app';
import { toOpenApiPath } from '../../../src/httpd/openapi/document';
import { startServer, type TestServer } from './support';

let s: TestServer;
// the web admin is on (the default): its pages must register without leaking into the document
before(async () => { s = await startServer({ binding: { enable_web_admin: true } }); });

/** Independent of the plugin: SFTPGo's document covers the REST API and /healthz only. */
const API_PATH = /^\/api\/v2\/[A-Za-z0-9_{}\/-]+$/;
const inDocScope = (p: string): boolean => p === '/healthz' || API_PATH.test(p);
after(async () => { await s.close(); });

type Doc = { paths: Record<string, Record<string, { security?: unknown; responses: Record<string, unknown>; requestBody?: unknown }>> };
const ROOT_YAML = join(__dirname, '..', '..', '..', '..', 'openapi', 'openapi.yaml');

function docOps(doc: Doc): Set<string> {
  const out = new Set<string>();
  for (const [p, ops] of Object.entries(doc.paths)) for (const m of Object.keys(ops)) out.add(`${m.toUpperCase()} ${p}`);
  return out;
}

test('document and registered routes match exactly', async () => {
  const spied = new Set<string>();
  const outside = new Set<string>();
  const built = await buildApp({
    ctx: s.ctx,
    // the other deps are not used while registering routes
    tokens: undefined as never, limiter: undefined as never, scans: s.svc.scans, resetCodes: undefined as never, revocations: undefined as never, serviceStatus: () => ({}),
  }, {
    binding: s.ctx.config.httpd.bindings[0],
    beforeRoutes: (app) => app.addHook('onRoute', (r) => {
      const p = toOpenApiPath(r.url ?? r.path);
      for (const m of Array.isArray(r.method) ? r.method : [r.method]) if (m !== 'HEAD') (inDocScope(p) ? spied : outside).add(`${m} ${p}`);
    }),
  });
  await built.app.close();
  assert.ok(spied.size >= 40, `only ${spied.size} routes`);
  // the web admin, its assets, /metrics and the documentation pages were registered on this binding...
  for (const r of ['GET /web/admin/users', 'POST /web/admin/connections/{id}/close', 'GET /metrics', 'GET /openapi']) {
    assert.ok(outside.has(r), `expected route ${r} to be registered`);
  }
  assert.ok([...outside].some((r) => r.includes('/static/')), 'static assets registered');

  const res = await s.call('GET', '/openapi/openapi.json');
  assert.equal(res.status, 200);
  const doc = res.json as Doc;
  const documented = docOps(doc);
  for (const r of spied) assert.ok(documented.has(r), `route missing from the OpenAPI document: ${r}`);
  for (const d of documented) assert.ok(spied.has(d), `documented route is not registered: ${d}`);
  // ...and none of them is in the document
  for (const p of Object.keys(doc.paths)) assert.ok(inDocScope(p), `${p} is not a REST API path`);

  // every API operation declares how it authenticates and what it answers
  for (const [p, ops] of Object.entries(doc.paths)) {
    for (const [m, op] of Object.entries(ops)) {
      if (p.startsWith('/api/v2/')) assert.ok(Array.isArray(op.security), `${m} ${p} security`);
      assert.ok(Object.keys(op.responses).some((c) => c.startsWith('2')), `${m} ${p} success response`);
      // every body-taking operation (all but quota scan starts, recovery code regeneration, 2FA resets and on-demand rule runs) validates its body
      const bodiless = p.endsWith('/scan') || p.endsWith('/2fa/recoverycodes') || p.endsWith('/2fa/disable') || p.startsWith('/api/v2/eventrules/run/') || (op as { 'x-bodiless'?: boolean })['x-bodiless'] === true;
      if ((m === 'post' || m === 'put') && !bodiless) assert.ok(op.requestBody, `${m} ${p} request body schema`);
    }
  }

  // the YAML is the same document
  const y = await s.call('GET', '/openapi/openapi.yaml');
  assert.equal(y.status, 200);
  assert.deepEqual(yaml.load(y.text), doc);

  // the browsable page lists every path, offline (no external resources)
  const page = await s.call('GET', '/openapi');
  assert.equal(page.status, 200);
  assert.match(page.headers.get('content-type') ?? '', /text\/html/);
  for (const p of Object.keys(doc.paths)) assert.ok(page.text.includes(p.replace(/&/g, '&amp;')), p);
  assert.doesNotMatch(page.text, /(src|href)="https?:/);

  // the committed copy at the repo root is current
  const committed = yaml.dump({ ...doc, info: { ...(doc as unknown as { info: object }).info, version: 'v2' } }, { noRefs: true });
  if (process.env['UPDATE_OPENAPI'] === '1') await writeFile(ROOT_YAML, committed);
  const onDisk = yaml.load(await readFile(ROOT_YAML, 'utf8')) as Doc;
  assert.deepEqual([...docOps(onDisk)].sort(), [...documented].sort(), 'openapi/openapi.yaml is stale: rerun this test with UPDATE_OPENAPI=1');
});

test('public routes need no auth, API routes do', async () => {
  for (const p of ['/healthz', '/metrics', '/openapi', '/openapi/openapi.json', '/openapi/openapi.yaml']) {
    assert.equal((await s.call('GET', p)).status, 200, p);
  }
  const nf = await s.call('GET', '/no/such/route');
  assert.equal(nf.status, 404);
  assert.equal(nf.headers.get('x-route-not-found'), '1');
});
