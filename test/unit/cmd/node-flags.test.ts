import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { missingNodeFlags, NODE_FLAGS } from '../../../src/cmd/node-flags';

const ROOT = join(__dirname, '..', '..', '..', '..');

test('missingNodeFlags: found in execArgv or NODE_OPTIONS, whatever the value or spelling', () => {
  const semi = NODE_FLAGS.filter((f) => !f.startsWith('--max-semi-space-size'));
  assert.deepEqual(missingNodeFlags([], undefined), [...NODE_FLAGS]);
  assert.deepEqual(missingNodeFlags([...NODE_FLAGS], undefined), []);
  assert.deepEqual(missingNodeFlags(['--max-semi-space-size=4'], undefined), semi);
  assert.deepEqual(missingNodeFlags(['--max_semi_space_size=8', '--no_memory_reducer', '--initial_old_space_size=32'], ''), []);
  assert.deepEqual(missingNodeFlags(['--inspect', '--no-memory-reducer'], '--max-old-space-size=512 --max-semi-space-size=2 --initial-old-space-size=128'), []);
  assert.deepEqual(missingNodeFlags(['--max-old-space-size=512'], '--trace-warnings'), [...NODE_FLAGS]);
});

test('every way the daemon is launched carries NODE_FLAGS', () => {
  const shebang = readFileSync(join(ROOT, 'src/cmd/main.ts'), 'utf8').split('\n')[0]!;
  const start = (JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { scripts: Record<string, string> }).scripts.start!;
  const docker = readFileSync(join(ROOT, 'docker/Dockerfile'), 'utf8').split('\n').find((l) => l.startsWith('ENTRYPOINT'))!;
  for (const flag of NODE_FLAGS) {
    assert.ok(shebang.startsWith('#!/usr/bin/env -S node ') && shebang.includes(flag), `shebang: ${shebang}`);
    assert.ok(start.startsWith('node ') && start.includes(flag), `start script: ${start}`);
    assert.ok(docker.includes(JSON.stringify(flag)), `Dockerfile: ${docker}`);
  }
});
