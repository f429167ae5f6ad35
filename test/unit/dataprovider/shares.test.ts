/**
 * Shares on every backend: validation (scopes, nested paths, expiry, CIDRs),
 * hashed passwords never handed back as plain text, ownership, max_tokens
 * spent atomically under concurrency, removal with the owner, dump/restore.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { isFsError } from '../../../src/common/errors';
import { isValidationError } from '../../../src/dataprovider/validation';
import { redactShare, shareUnusableReason } from '../../../src/dataprovider/shares';
import { BACKENDS, tempDir, userInput } from './support';

for (const backend of BACKENDS) {
  describe(`shares: ${backend.name}`, () => {
    test('validation, hashing, ownership and atomic tokens', async (t) => {
      const dp = await backend.open(tempDir(t));
      t.after(() => dp.close());
      await dp.addUser(userInput('owner'));
      await dp.addUser(userInput('other'));
      const bad = [
        { name: 'x', scope: 4, paths: ['/a'] },
        { name: 'x', scope: 2, paths: ['/a', '/b'] },
        { name: 'x', scope: 1, paths: ['/a', '/a/b'] },
        { name: 'x', scope: 1, paths: [] },
        { name: 'x', scope: 1, paths: ['/a'], expires_at: Date.now() - 1000 },
        { name: 'x', scope: 1, paths: ['/a'], allow_from: ['not-a-cidr'] },
        { name: 'x', scope: 1, paths: ['/a'], password: '[**redacted**]' },
      ];
      for (const b of bad) await assert.rejects(dp.shares.add('owner', b), isValidationError, JSON.stringify(b));
      // "/a" and "/ab" are siblings, not nested
      const s = await dp.shares.add('owner', { name: 'docs', scope: 1, paths: ['/a/../a', '/ab'], password: 'secret', max_tokens: 3 });
      assert.deepEqual(s.paths, ['/a', '/ab']);
      assert.match(s.password, /^\$2a\$/);
      assert.equal(redactShare(s).password, '[**redacted**]');
      assert.ok(await dp.shares.checkPassword(s, 'secret'));
      assert.ok(!(await dp.shares.checkPassword(s, 'wrong')));
      await assert.rejects(dp.shares.get(s.id, 'other'), (e) => isFsError(e, 'NotFound'));
      const upd = await dp.shares.update('owner', s.id, { ...redactShare(s), description: 'changed' });
      assert.equal(upd.password, s.password, 'a redacted password keeps the stored hash');
      assert.equal(upd.description, 'changed');

      const results = await Promise.all(Array.from({ length: 10 }, () => dp.shares.useTokens(s.id, 1)));
      assert.equal(results.filter(Boolean).length, 3, 'exactly max_tokens accesses succeed');
      const spent = await dp.shares.get(s.id);
      assert.equal(spent.used_tokens, 3);
      assert.deepEqual(shareUnusableReason(spent, '127.0.0.1'), { status: 403, reason: 'share usage exceeded' });
      assert.ok(await dp.shares.useTokens(s.id, -1));
      assert.equal((await dp.shares.get(s.id)).used_tokens, 2);
      assert.equal((await dp.shares.list('owner')).length, 1);
      assert.equal((await dp.shares.list('other')).length, 0);

      const dump = await dp.dump();
      assert.equal((dump.shares ?? []).length, 1);
      await dp.deleteUser('owner');
      assert.equal((await dp.shares.list(undefined)).length, 0, 'shares go with their owner');
    });

    test('dump restore keeps ids, counters and hashes; an unknown owner is refused', async (t) => {
      const dp = await backend.open(tempDir(t));
      t.after(() => dp.close());
      await dp.addUser(userInput('owner'));
      const s = await dp.shares.add('owner', { name: 'up', scope: 2, paths: ['/in'], password: 'pw', allow_from: ['10.0.0.0/8'] });
      await dp.shares.useTokens(s.id, 1);
      const dump = await dp.dump();
      await dp.shares.delete(s.id, 'owner');
      await dp.restore(dump, 0);
      const back = await dp.shares.get(s.id);
      assert.equal(back.password, s.password);
      assert.equal(back.used_tokens, 1);
      assert.deepEqual(back.allow_from, ['10.0.0.0/8']);
      assert.equal(shareUnusableReason(back, '127.0.0.1')?.status, 403);
      assert.equal(shareUnusableReason(back, '10.1.2.3'), undefined);
      await assert.rejects(dp.restore({ shares: [{ ...back, id: 'zz', username: 'ghost' }] }, 0), isValidationError);
    });
  });
}
