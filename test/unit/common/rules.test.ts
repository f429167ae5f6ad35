import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { cleanVirtualPath, dirsForVirtualPath } from '../../../src/common/vpath';
import {
  getPermissionsForPath, hasPerm, hasAnyPerm, hasPerms, canUpload, canList, canDeleteFile, canDeleteDir, hasRenamePerms, hasPermissionsInside,
} from '../../../src/common/permissions';
import { isFileAllowed, checkAllowed, getPatternsFilterForPath, isHiddenInListing, maxUploadFileSize } from '../../../src/common/filters';
import { globMatch } from '../../../src/common/glob';
import { isFsError } from '../../../src/common/errors';
import type { Permission, User } from '../../../src/dataprovider/models';

const perms = (p: Record<string, Permission[]>): Pick<User, 'permissions'> => ({ permissions: p });

describe('virtual paths', () => {
  const cases: [string, string | undefined, string][] = [
    ['/', undefined, '/'],
    ['', '/a', '/a'],
    ['..', '/', '/'],
    ['../../..', '/a/b', '/'],
    ['/../../etc/passwd', undefined, '/etc/passwd'],
    ['x/../../y', '/a', '/y'],
    ['b/', '/a', '/a/b'],
    ['//a//b/./c/', undefined, '/a/b/c'],
    ['a\\..\\b', '/', '/a\\..\\b'],
    ['rel', 'cwd-without-slash', '/cwd-without-slash/rel'],
  ];
  for (const [p, cwd, want] of cases) {
    test(`clean(${JSON.stringify(p)}, ${cwd ?? '-'}) = ${want}`, () => assert.equal(cleanVirtualPath(p, cwd), want));
  }
  test('NUL is rejected', () => {
    assert.throws(() => cleanVirtualPath('/a\0b'), (e: unknown) => isFsError(e, 'InvalidPath'));
  });
  test('dirs for a path, most specific first', () => {
    assert.deepEqual(dirsForVirtualPath('/1/2/3'), ['/1/2/3', '/1/2', '/1', '/']);
    assert.deepEqual(dirsForVirtualPath('/'), ['/']);
  });
});

describe('permissions (SFTPGo GetPermissionsForPath)', () => {
  const u = perms({
    '/': ['list', 'download'],
    '/pub': ['*'],
    '/pub/ro': ['list'],
    '/data/*/in': ['upload', 'list'],
  });
  const table: [string, readonly string[]][] = [
    ['/', ['list', 'download']],
    ['/other', ['list', 'download']],
    ['/pub', ['*']],
    ['/pub/x/y', ['*']],
    ['/pub/ro', ['list']],
    ['/pub/ro/deeper', ['list']],
    ['/pub/rox', ['*']],
    ['/data/a/in', ['upload', 'list']],
    ['/data/a/in/sub', ['upload', 'list']],
    ['/data/a/out', ['list', 'download']],
  ];
  for (const [p, want] of table) {
    test(`perms for ${p}`, () => assert.deepEqual(getPermissionsForPath(u, p), want));
  }
  test('only "/" configured applies everywhere', () => {
    assert.deepEqual(getPermissionsForPath(perms({ '/': ['list'] }), '/a/b/c'), ['list']);
  });
  test('no "/" and no match → nothing', () => {
    assert.deepEqual(getPermissionsForPath(perms({ '/a': ['*'] }), '/b'), []);
  });
  test('* grants all; HasAnyPerm / HasPerms', () => {
    assert.equal(hasPerm(u, 'chown', '/pub/z'), true);
    assert.equal(hasPerm(u, 'upload', '/'), false);
    assert.equal(hasAnyPerm(u, ['upload', 'download'], '/'), true);
    assert.equal(hasPerms(u, ['list', 'download'], '/'), true);
    assert.equal(hasPerms(u, ['list', 'upload'], '/'), false);
  });
  test('item operations are checked on the parent dir, list on the dir itself', () => {
    // uploading /pub/ro/file is governed by /pub/ro (list only) → denied
    assert.equal(canUpload(u, '/pub/ro/file'), false);
    // uploading /pub/file is governed by /pub (*) → allowed, even though a sibling dir is read only
    assert.equal(canUpload(u, '/pub/file'), true);
    // deleting the directory /pub/ro itself is governed by /pub
    assert.equal(canDeleteDir(u, '/pub/ro'), true);
    assert.equal(canList(u, '/pub/ro'), true);
    // '/data/*/in' does not match /data/a: the '/' fallback applies
    assert.equal(canList(u, '/data/a'), true);
  });
  test('delete implies delete_files and delete_dirs', () => {
    const d = perms({ '/': ['delete'] });
    assert.equal(canDeleteFile(d, '/f'), true);
    assert.equal(canDeleteDir(d, '/d'), true);
    const f = perms({ '/': ['delete_files'] });
    assert.equal(canDeleteFile(f, '/f'), true);
    assert.equal(canDeleteDir(f, '/d'), false);
  });
  test('rename implies rename_files and rename_dirs; specific perms needed on both sides', () => {
    const r = perms({ '/': ['rename'] });
    assert.equal(hasRenamePerms(r, '/a', '/b', true), true);
    const rf = perms({ '/': ['rename_files'], '/dst': ['list'] });
    assert.equal(hasRenamePerms(rf, '/a', '/b', false), true);
    assert.equal(hasRenamePerms(rf, '/a', '/b', true), false);
    assert.equal(hasRenamePerms(rf, '/a', '/dst/b', false), false);
    assert.equal(hasRenamePerms(perms({ '/': ['rename_files', 'rename_dirs'] }), '/a', '/b', true), true);
  });
  test('permissions inside a subtree', () => {
    assert.equal(hasPermissionsInside(u, '/pub'), true);
    assert.equal(hasPermissionsInside(perms({ '/': ['*'], '/a/b': ['*'] }), '/a'), false);
    assert.equal(hasPermissionsInside(perms({ '/': ['*'], '/a/b': ['list'] }), '/a'), true);
  });
});

describe('glob (Go path.Match)', () => {
  const cases: [string, string, boolean | undefined][] = [
    ['*.txt', 'a.txt', true],
    ['*.txt', 'a.txt.bak', false],
    ['*', 'a/b', false],
    ['?.jpg', 'a.jpg', true],
    ['[a-c]*', 'beta', true],
    ['[^a-c]*', 'beta', false],
    ['\\*', '*', true],
    ['a.b', 'axb', false],
    ['[', 'x', undefined],
    ['/data/*/in', '/data/x/in', true],
  ];
  for (const [p, s, want] of cases) test(`${p} ~ ${s}`, () => assert.equal(globMatch(p, s), want));
});

describe('file pattern filters', () => {
  const u: Pick<User, 'filters'> = {
    filters: {
      file_patterns: [
        { path: '/', denied_patterns: ['*.exe'] },
        { path: '/photos', allowed_patterns: ['*.jpg', '*.png'], deny_policy: 0 },
        { path: '/secret', denied_patterns: ['*'], deny_policy: 1 },
        { path: '/docs', denied_patterns: ['private*'], deny_policy: 1 },
      ],
      max_upload_file_size: 100,
    },
  };
  test('denied patterns are case insensitive', () => {
    assert.deepEqual(isFileAllowed(u, '/x/Setup.EXE'), { allowed: false, denyPolicy: 0 });
    assert.equal(isFileAllowed(u, '/x/a.txt').allowed, true);
  });
  test('most specific path wins (its own rules, not merged with /)', () => {
    assert.equal(isFileAllowed(u, '/photos/a.JPG').allowed, true);
    assert.equal(isFileAllowed(u, '/photos/a.gif').allowed, false);
    assert.equal(isFileAllowed(u, '/photos/sub/a.exe').allowed, false);
    assert.equal(getPatternsFilterForPath(u, '/photos/sub')?.path, '/photos');
  });
  test('a hidden directory hides everything below it', () => {
    assert.deepEqual(isFileAllowed(u, '/secret/x'), { allowed: false, denyPolicy: 1 });
    // /docs/private1 is hidden, so its contents are too
    assert.deepEqual(isFileAllowed(u, '/docs/private1/file'), { allowed: false, denyPolicy: 1 });
    assert.equal(isFileAllowed(u, '/docs/public/file').allowed, true);
  });
  test('listing hides only with deny_policy 1', () => {
    assert.equal(isHiddenInListing(getPatternsFilterForPath(u, '/docs'), 'private.txt'), true);
    assert.equal(isHiddenInListing(getPatternsFilterForPath(u, '/photos'), 'a.gif'), false);
  });
  test('checkAllowed without filter and max upload size', () => {
    assert.equal(checkAllowed(undefined, 'x'), true);
    assert.equal(maxUploadFileSize(u), 100);
    assert.equal(maxUploadFileSize({}), 0);
  });
});
