import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, mkdir, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FsError, ERROR_KINDS } from '../../../src/common/errors';
import { ValidationError } from '../../../src/dataprovider/validation';
import { ApiError, classifyError, FS_ERROR_STATUS } from '../../../src/httpd/errors';
import { ipAllowed } from '../../../src/httpd/ipfilter';
import { LoginLimiter } from '../../../src/httpd/ratelimit';
import { fsUsage } from '../../../src/common/backend-usage';
import { OsFs } from '../../../src/vfs/osfs';
import { buildOpenApiDocument, toOpenApiPath } from '../../../src/httpd/openapi/document';
import { renderOpenApiPage } from '../../../src/httpd/openapi/page';

test('every error kind has an HTTP status; classification', () => {
  for (const k of ERROR_KINDS) assert.ok(FS_ERROR_STATUS[k] >= 400, k);
  assert.deepEqual(classifyError(new FsError('NotFound', 'nope')), { status: 404, detail: 'nope', internal: false });
  assert.equal(classifyError(new FsError('AlreadyExists')).status, 409);
  assert.equal(classifyError(new FsError('PermissionDenied')).status, 403);
  assert.equal(classifyError(new ValidationError('username is mandatory')).status, 400);
  assert.equal(classifyError(new ApiError(429, 'slow down')).status, 429);
  const internal = classifyError(new Error('db exploded at /secret/path'));
  assert.equal(internal.status, 500);
  assert.doesNotMatch(internal.detail, /secret/);
});

test('allow list CIDR matching', () => {
  assert.equal(ipAllowed('10.1.2.3', []), true);
  assert.equal(ipAllowed('10.1.2.3', undefined), true);
  assert.equal(ipAllowed('10.1.2.3', ['10.0.0.0/8']), true);
  assert.equal(ipAllowed('::ffff:10.1.2.3', ['10.0.0.0/8']), true);
  assert.equal(ipAllowed('127.0.0.1', ['10.0.0.0/8']), false);
  assert.equal(ipAllowed('127.0.0.1', ['127.0.0.1']), true);
  assert.equal(ipAllowed('::1', ['::1/128']), true);
  assert.equal(ipAllowed('127.0.0.1', ['garbage', '1.2.3.4/99']), false);
});

test('login limiter blocks past the limit and resets after the window', () => {
  let now = 0;
  const l = new LoginLimiter({ maxFailures: 3, windowMs: 1000, maxEntries: 2, now: () => now });
  for (let i = 0; i < 3; i++) {
    assert.equal(l.isBlocked('a'), false);
    l.recordFailure('a');
  }
  assert.equal(l.isBlocked('a'), true);
  assert.equal(l.isBlocked('b'), false);
  now = 1001;
  assert.equal(l.isBlocked('a'), false);
  l.recordFailure('b');
  l.recordFailure('c');
  l.recordFailure('d'); // map bounded to 2 entries
  l.recordSuccess('d');
  assert.equal(l.isBlocked('d'), false);
});

test('fsUsage walks a backend: counts regular files, skips excluded trees and symlinks', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'httpd-usage-'));
  try {
    await mkdir(join(dir, 'a/b'), { recursive: true });
    await mkdir(join(dir, 'vf'));
    await writeFile(join(dir, 'f1'), 'abc');
    await writeFile(join(dir, 'a/b/f2'), '12345');
    await writeFile(join(dir, 'vf/f3'), '1234567');
    await symlink('/etc/passwd', join(dir, 'link'));
    const fs = new OsFs({ root: dir });
    assert.deepEqual(await fsUsage(fs), { size: 15, files: 3 });
    assert.deepEqual(await fsUsage(fs, ['/vf']), { size: 8, files: 2 });
    assert.deepEqual(await fsUsage(new OsFs({ root: join(dir, 'missing') })), { size: 0, files: 0 });
    await assert.rejects(fsUsage(fs, [], () => true), (e: unknown) => e instanceof FsError && e.kind === 'Aborted');
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('openapi document from collected routes', () => {
  assert.equal(toOpenApiPath('/api/v2/users/:username/scan'), '/api/v2/users/{username}/scan');
  const doc = buildOpenApiDocument([
    { method: 'GET', url: '/api/v2/users/:username', config: { perms: ['view_users'], summary: 'Get <user>' },
      schema: { params: { type: 'object', properties: { username: { type: 'string' } } }, response: { 200: { type: 'object' } } } },
    { method: 'GET', url: '/healthz', config: { auth: 'none' }, schema: { response: { 200: { type: 'string' } } } },
  ], '1.0');
  const paths = doc['paths'] as Record<string, Record<string, Record<string, unknown>>>;
  const op = paths['/api/v2/users/{username}']['get'];
  assert.deepEqual((op['parameters'] as { name: string; in: string }[]).map((p) => [p.name, p.in]), [['username', 'path']]);
  assert.deepEqual(paths['/healthz']['get']['security'], []);
  const html = renderOpenApiPage(doc);
  assert.match(html, /Get &lt;user&gt;/);
  assert.doesNotMatch(html, /<user>/);
});
