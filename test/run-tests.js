#!/usr/bin/env node
// npm test: runs node's test runner over the compiled form of every test/**/*.test.ts
// that exists in the source tree (so a stale file left in dist/ never runs).
// Files run TEST_CONCURRENCY at a time (default 2: most of a file's time is spent
// starting processes and waiting on sockets; ports are reserved across files by
// test/support/net.ts). Extra arguments select files by substring: `npm test -- sftpd webdavd`.
'use strict';
const { readdirSync, statSync } = require('node:fs');
const { join, relative } = require('node:path');
const { spawnSync } = require('node:child_process');

const root = join(__dirname, '..');
function walk(dir) {
  const out = [];
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) out.push(...walk(p));
    else if (name.endsWith('.test.ts')) out.push(p);
  }
  return out;
}
const filters = process.argv.slice(2);
const files = walk(join(root, 'test'))
  .map((p) => join(root, 'dist', relative(root, p)).replace(/\.ts$/, '.js'))
  .filter((p) => filters.length === 0 || filters.some((f) => p.includes(f)))
  .sort();
if (files.length === 0) {
  console.error('no test files matched');
  process.exit(1);
}
// Every test process loads ssh2 the way the daemon does (with the padding pool,
// src/sftpd/ssh2-padding.ts), whatever its own imports load first.
const preload = ['--require', join(root, 'dist', 'src', 'sftpd', 'ssh2-padding.js')];
const concurrency = Math.max(1, Number(process.env.TEST_CONCURRENCY) || 2);
const r = spawnSync(process.execPath, [...preload, '--test', `--test-concurrency=${concurrency}`, '--test-timeout=600000', ...files], { stdio: 'inherit' });
process.exit(r.status ?? 1);
