import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import { scryptSync } from 'node:crypto';
import { execFileSync } from 'node:child_process';
import { isHashedPassword, verifyPassword } from '../../../src/dataprovider/passwords';
import { WorkerSlots } from '../../../src/dataprovider/yescrypt-worker';
import { decode64, encode64, parseYescryptSetting, yescryptCrypt, yescryptKdf } from '../../../src/dataprovider/yescrypt';

test('flavor 0 is classic scrypt: RFC 7914 vectors and node:crypto agree', () => {
  const cases: [string, string, number, number, number][] = [['', '', 16, 1, 1], ['password', 'NaCl', 1024, 8, 16], ['pleaseletmein', 'SodiumChloride', 2048, 2, 3]];
  for (const [pw, salt, N, r, p] of cases) {
    const ours = yescryptKdf(Buffer.from(pw), Buffer.from(salt), { flags: 0, N, r, p, t: 0 }, 64);
    assert.deepEqual(ours, scryptSync(pw, salt, 64, { N, r, p, maxmem: 256 * 1024 * 1024 }), `${pw}/${salt}`);
  }
  assert.equal(yescryptKdf(Buffer.from(''), Buffer.from(''), { flags: 0, N: 16, r: 1, p: 1, t: 0 }, 64).toString('hex').slice(0, 32), '77d6576238657b203b19ca42c18a0497');
});

test('parameter and salt encodings', () => {
  const p = parseYescryptSetting('$y$j9T$FlWFFjPPx4yJOSHj2Llgp0$XQC9NXTGRS3IMwYZ.Yv7LdwsiMd6bmgWeER5U1OKYv.');
  assert.ok(p);
  // j = flavor 47 = YESCRYPT_DEFAULTS (0xb6), 9 = N 2^12, T = r 32
  assert.deepEqual(p.params, { flags: 0xb6, N: 4096, r: 32, p: 1, t: 0 });
  assert.equal(p.salt.length, 16);
  assert.equal(encode64(p.salt), 'FlWFFjPPx4yJOSHj2Llgp0');
  assert.equal(decode64('.'), undefined, 'a lone character is not a byte');
  for (const bad of ['$y$', '$y$j9T', '$y$j9T$salt', '$y$~9T$abc$def', '$y$zzzzzz$abc$', '$y$j9T$!!$x', '$y$jzT$abcd$x']) {
    assert.equal(yescryptCrypt('pw', bad), undefined, bad);
  }
});

test('hashes of known passwords verify; wrong passwords and broken hashes do not', async () => {
  const known: [string, string][] = [
    ['correct horse battery staple', '$y$j9T$FlWFFjPPx4yJOSHj2Llgp0$XQC9NXTGRS3IMwYZ.Yv7LdwsiMd6bmgWeER5U1OKYv.'],
    ['pässwörd-ü', '$y$j85$nnMZrRJeigQ/mVFcDVoQv0$WwwUVaj8kN3paAlr7fgiFDTWthRlLdDkhfaESnVY110'],
  ];
  for (const [pw, hash] of known) {
    assert.ok(isHashedPassword(hash));
    assert.equal(await verifyPassword(pw, hash), true, hash);
    assert.equal(await verifyPassword(`${pw}x`, hash), false);
    assert.equal(await verifyPassword(pw, hash.slice(0, -1) + (hash.endsWith('.') ? '/' : '.')), false);
  }
  assert.equal(await verifyPassword('x', '$y$j9T$broken'), false);
});

test('hashes from Debian\'s mkpasswd -m yescrypt at several costs verify (timings printed)', async () => {
  // mkpasswd comes with the whois package (.ci/run installs it)
  const passwords = ['s3cret', 'with space and ünïcödé', 'p'.repeat(100)];
  for (const rounds of ['1', '3', '5', '6']) {
    // every password at the cheapest cost, one at each higher cost (keeps the test short)
    for (const pw of rounds === '1' ? passwords : passwords.slice(0, 1)) {
      const hash = execFileSync('mkpasswd', ['-m', 'yescrypt', '-R', rounds, '--stdin'], { input: pw, encoding: 'utf8' }).trim();
      assert.match(hash, /^\$y\$/);
      const started = process.hrtime.bigint();
      assert.equal(yescryptCrypt(pw, hash), hash, `mkpasswd -R ${rounds}`);
      const ms = Number(process.hrtime.bigint() - started) / 1e6;
      if (pw === passwords[0]) process.stdout.write(`# yescrypt ${hash.slice(0, 7)} (-R ${rounds}): ${ms.toFixed(0)} ms in JS\n`);
      assert.equal(await verifyPassword(pw, hash), true);
      assert.equal(await verifyPassword(`${pw}!`, hash), false);
    }
  }
});

test('concurrent verifications run off the event loop, at most `max` at once, and all answer', async () => {
  const hash = '$y$j9T$FlWFFjPPx4yJOSHj2Llgp0$XQC9NXTGRS3IMwYZ.Yv7LdwsiMd6bmgWeER5U1OKYv.';
  let ticks = 0;
  const timer = setInterval(() => ticks++, 1);
  const slots = new WorkerSlots(2);
  let active = 0;
  let peak = 0;
  const counted = new WorkerSlots(2);
  const results = await Promise.all([1, 2, 3, 4].map((i) => verifyPassword(i % 2 ? 'correct horse battery staple' : 'nope', hash, slots)));
  // the same bound observed from the inside
  await Promise.all([1, 2, 3, 4, 5].map(() => counted.run(async () => {
    active++;
    peak = Math.max(peak, active);
    await new Promise<void>((resolve) => setImmediate(resolve));
    active--;
  })));
  clearInterval(timer);
  assert.deepEqual(results, [true, false, true, false]);
  assert.equal(peak, 2);
  assert.ok(ticks > 0, 'the event loop kept running while hashing');
});
