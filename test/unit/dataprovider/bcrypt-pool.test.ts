import { test } from 'node:test';
import assert from 'node:assert/strict';
import bcrypt from 'bcryptjs';
import { BcryptPool } from '../../../src/dataprovider/bcrypt-pool';

test('comparisons on workers answer as bcryptjs does, many at once, and after close on the main thread', async () => {
  const hash = await bcrypt.hash('right', 4);
  const pool = new BcryptPool(2);
  const answers = await Promise.all(Array.from({ length: 40 }, (_, i) => pool.compare(i % 2 === 0 ? 'right' : `wrong${i}`, hash)));
  assert.deepEqual(answers, Array.from({ length: 40 }, (_, i) => i % 2 === 0));
  assert.equal(await pool.compare('right', 'not a bcrypt hash'), false);
  await pool.close();
  assert.equal(await pool.compare('right', hash), true);
  assert.equal(await pool.compare('wrong', hash), false);
});
