/**
 * Route schemas compile on first use (src/httpd/lazy-schemas.ts): validation
 * and serialization answer as before, every schema of the whole application
 * (REST API, web admin, web client) compiles, and what cannot be compiled
 * lazily is refused at start-up.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import Fastify from 'fastify';
import { createLazySchemaCompilers } from '../../../src/httpd/lazy-schemas';
import { startServer, type TestServer } from './support';

let s: TestServer;
let token: string;
before(async () => {
  s = await startServer({ binding: { enable_web_admin: true, enable_web_client: true } });
  token = await s.token();
});
after(async () => { await s?.close(); });

test('a body, querystring and params schema still validate, with ajv\'s message', async () => {
  const wrongType = await s.call('POST', '/api/v2/users', { token, body: { username: 'lazy1', status: '1', password: 'x', permissions: { '/': ['*'] } } });
  assert.equal(wrongType.status, 400, wrongType.text);
  assert.match((wrongType.json as { message: string }).message, /^invalid request: body\/status must be integer/);
  const query = await s.call('GET', '/api/v2/users?limit=abc', { token });
  assert.equal(query.status, 400, query.text);
  assert.match((query.json as { message: string }).message, /querystring\/limit/);
  // the same validator again, now compiled: the same answer
  const again = await s.call('GET', '/api/v2/users?limit=abc', { token });
  assert.equal(again.text, query.text);
  assert.equal((await s.call('GET', '/api/v2/users?limit=1', { token })).status, 200);
});

test('every schema of the REST API, web admin and web client compiles', () => {
  const [built] = s.svc.apps();
  assert.ok(built);
  const compiled = built.compilePendingSchemas();
  assert.ok(compiled > 100, `only ${compiled} schemas were pending`);
  assert.equal(built.compilePendingSchemas(), 0, 'a compiled schema stays compiled');
});

test('a schema that does not compile fails on its route, and in compilePendingSchemas', async () => {
  const schemas = createLazySchemaCompilers();
  const app = Fastify({ schemaController: { compilersFactory: schemas.compilersFactory } });
  app.post('/broken', { schema: { body: { type: 'object', properties: { n: { type: 'no-such-type' } } } } }, async () => ({ ok: true }));
  app.get('/fine', { schema: { querystring: { type: 'object', properties: { n: { type: 'integer' } } }, response: { 200: { type: 'object', properties: { n: { type: 'integer' } } } } } },
    async (req) => ({ n: Number((req.query as { n?: number }).n ?? 0), dropped: 'not in the response schema' }));
  await app.ready();
  try {
    const fine = await app.inject({ method: 'GET', url: '/fine?n=7' });
    assert.equal(fine.statusCode, 200);
    assert.deepEqual(fine.json(), { n: 7 }, 'the response schema serializes');
    const broken = await app.inject({ method: 'POST', url: '/broken', payload: { n: 1 } });
    assert.equal(broken.statusCode, 500);
    assert.throws(() => schemas.compilePendingSchemas(), /no-such-type|schema is invalid|unknown type/);
  } finally {
    await app.close();
  }
});

test('a header schema is refused when the route is registered', async () => {
  const app = Fastify({ schemaController: { compilersFactory: createLazySchemaCompilers().compilersFactory } });
  app.get('/h', { schema: { headers: { type: 'object', properties: { 'X-Thing': { type: 'string' } } } } }, async () => 'x');
  await assert.rejects(async () => { await app.ready(); }, /GET \/h: header schemas are not supported/);
  await app.close().catch(() => undefined);
});
