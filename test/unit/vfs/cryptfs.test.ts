/**
 * The encrypted local backend: the conformance suite, and interop with an
 * independent implementation of SFTPGo's format (test/support/dare.py, from
 * the DARE 2.0 spec and SFTPGo's header/HKDF): files it encrypts (AES-GCM
 * and ChaCha20-Poly1305, empty, exact package multiples) read back here, and
 * files written here decrypt there; plaintext sizes are reported.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { CryptFs } from '../../../src/vfs/crypt/cryptfs';
import { encryptedFileSize } from '../../../src/vfs/crypt/dare';
import { OsFs } from '../../../src/vfs/osfs';
import { readFile as readBackend, runConformance, writeFile as writeBackend } from '../../support/vfs-conformance';

const PASSPHRASE = 'correct horse battery staple 42';
const DARE_PY = resolve(__dirname, '../../../../test/support/dare.py');
const secret = { status: 'Plain', payload: PASSPHRASE };
const makeCrypt = (root: string): CryptFs => new CryptFs(new OsFs({ root }), secret, async (s) => s.payload ?? '');

runConformance('crypt', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'vfs-conf-crypt-'));
  return { fs: makeCrypt(join(dir, 'root')), cleanup: () => rm(dir, { recursive: true, force: true }) };
});

function python(args: string[]): Promise<void> {
  return new Promise((res, rej) => execFile('python3', [DARE_PY, ...args], { timeout: 60_000 }, (e, _o, stderr) => (e ? rej(new Error(`${e.message}: ${stderr}`)) : res())));
}

const SIZES = [0, 1, 65535, 65536, 65537, 3 * 65536, 200_000];

test('crypt interop: files in SFTPGo\'s format written elsewhere read back here with plaintext sizes', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'crypt-interop-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const fs = makeCrypt(dir);
  for (const [i, size] of SIZES.entries()) {
    const plain = randomBytes(size);
    await writeFile(join(dir, `p${i}`), plain);
    await python(['encrypt', PASSPHRASE, join(dir, `p${i}`), join(dir, `e${i}`), ...(i % 2 ? ['chacha'] : [])]);
    assert.equal((await stat(join(dir, `e${i}`))).size, encryptedFileSize(size), `on-disk size for ${size}`);
    assert.equal((await fs.stat(`/e${i}`)).size, size, `plaintext size for ${size}`);
    assert.ok((await readBackend(fs, `/e${i}`)).equals(plain), `content for ${size}`);
  }
});

test('crypt interop: files written here decrypt with the independent implementation', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'crypt-interop-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const fs = makeCrypt(dir);
  for (const [i, size] of SIZES.entries()) {
    const plain = randomBytes(size);
    await writeBackend(fs, `/w${i}`, plain, 32 * 1024 + 7);
    await python(['decrypt', PASSPHRASE, join(dir, `w${i}`), join(dir, `d${i}`)]);
    assert.ok((await readFile(join(dir, `d${i}`))).equals(plain), `content for ${size}`);
  }
});

test('crypt: a wrong passphrase or a modified file fails the read, never returns garbage', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'crypt-tamper-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  await writeBackend(makeCrypt(dir), '/f', randomBytes(100_000));
  const wrong = new CryptFs(new OsFs({ root: dir }), { status: 'Plain', payload: 'not the passphrase' }, async (s) => s.payload ?? '');
  await assert.rejects(readBackend(wrong, '/f'), /authentication failed/);
  const raw = await readFile(join(dir, 'f'));
  raw[70_000] = (raw[70_000] as number) ^ 1;
  await writeFile(join(dir, 'f'), raw);
  await assert.rejects(readBackend(makeCrypt(dir), '/f'), /authentication failed/);
  await writeFile(join(dir, 'f'), raw.subarray(0, raw.length - 65568));
  await assert.rejects(readBackend(makeCrypt(dir), '/f'), /DARE|size/);
});
