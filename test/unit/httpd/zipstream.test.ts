/**
 * The streaming zip writer read back by Info-ZIP: UTF-8 names, folders, data
 * descriptors, CRCs, and the ZIP64 end records once the entry count passes
 * the 16-bit field (70,000 entries).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { createWriteStream, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { once } from 'node:events';
import { ZipStreamWriter } from '../../../src/util/zipstream';

async function* chunks(parts: string[]): AsyncGenerator<Buffer> {
  for (const p of parts) yield Buffer.from(p);
}

async function writeZip(file: string, fill: (z: ZipStreamWriter) => Promise<void>): Promise<void> {
  const out = createWriteStream(file);
  const z = new ZipStreamWriter(out);
  await fill(z);
  await z.finish();
  out.end();
  await once(out, 'close');
}

test('names, folders and contents survive unzip -t', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'zipstream-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const file = join(dir, 'a.zip');
  await writeZip(file, async (z) => {
    await z.addDirectory('dossier é', new Date('2024-05-06T07:08:10Z'));
    await z.addFile('dossier é/fichier ü.txt', new Date('2024-05-06T07:08:10Z'), chunks(['hello ', 'world']));
    await z.addFile('empty.bin', new Date(0), chunks([]));
  });
  execFileSync('unzip', ['-tq', file]);
  assert.deepEqual(execFileSync('unzip', ['-Z1', file], { encoding: 'utf8' }).split('\n').filter(Boolean), ['dossier é/', 'dossier é/fichier ü.txt', 'empty.bin']);
  assert.equal(execFileSync('unzip', ['-p', file, 'dossier é/fichier ü.txt'], { encoding: 'utf8' }), 'hello world');
});

test('more than 65,535 entries use the ZIP64 end records', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'zipstream-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const file = join(dir, 'many.zip');
  const n = 70_000;
  await writeZip(file, async (z) => {
    for (let i = 0; i < n; i++) await z.addFile(`f${i}.txt`, new Date('2024-01-01T00:00:00Z'), chunks([String(i)]));
  });
  execFileSync('unzip', ['-tq', file], { maxBuffer: 64 << 20 });
  const names = execFileSync('unzip', ['-Z1', file], { encoding: 'utf8', maxBuffer: 64 << 20 }).split('\n').filter(Boolean);
  assert.equal(names.length, n);
  assert.equal(execFileSync('unzip', ['-p', file, 'f69999.txt'], { encoding: 'utf8' }), '69999');
});
