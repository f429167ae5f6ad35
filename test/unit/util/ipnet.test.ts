import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ipBytes, parseNet, PrefixTable, compileNetList, bytesToIp } from '../../../src/util/ipnet';

test('addresses and networks parse to canonical text, host bits cleared', () => {
  assert.equal(parseNet('10.1.2.3/8')?.text, '10.0.0.0/8');
  assert.equal(parseNet('192.168.1.1')?.text, '192.168.1.1/32');
  assert.equal(parseNet('2001:DB8::1/32')?.text, '2001:db8::/32');
  assert.equal(parseNet('::1')?.text, '::1/128');
  assert.equal(parseNet('::ffff:10.0.0.1/104')?.text, '10.0.0.0/8');
  assert.equal(parseNet('::ffff:10.0.0.1')?.text, '10.0.0.1/32');
  for (const bad of ['10.0.0.0/33', '1.2.3', '1.2.3.256', 'fe80::/129', '', 'x/1', '1:2:3:4:5:6:7:8:9', '1::2::3', '10.0.0.0/-1']) {
    assert.equal(parseNet(bad), undefined, bad);
  }
  assert.equal(bytesToIp(ipBytes('2001:0:0:1:0:0:0:1')!), '2001:0:0:1::1');
  assert.equal(bytesToIp(ipBytes('::ffff:102:304')!), '1.2.3.4');
});

test('longest prefix wins, the accept filter skips entries, removal', () => {
  const t = new PrefixTable<{ name: string; proto: number }>();
  t.add(parseNet('10.0.0.0/8')!, { name: 'wide', proto: 0 });
  t.add(parseNet('10.1.0.0/16')!, { name: 'narrow', proto: 1 });
  t.add(parseNet('2001:db8::/32')!, { name: 'v6', proto: 0 });
  assert.equal(t.match('10.1.2.3')?.name, 'narrow');
  assert.equal(t.match('10.1.2.3', (v) => v.proto === 0)?.name, 'wide');
  assert.equal(t.match('10.2.0.1')?.name, 'wide');
  assert.equal(t.match('::ffff:10.2.0.1')?.name, 'wide');
  assert.equal(t.match('11.0.0.1'), undefined);
  assert.equal(t.match('2001:db8:1::9')?.name, 'v6');
  assert.equal(t.match('not-an-ip'), undefined);
  t.remove(parseNet('10.1.0.0/16')!, () => true);
  assert.equal(t.match('10.1.2.3')?.name, 'wide');
  assert.equal(t.size, 2);
});

test('thousands of entries: lookups do not scan (10,000 hosts + 1,000 networks, printed)', () => {
  const t = new PrefixTable<number>();
  for (let i = 0; i < 10_000; i++) t.add(parseNet(`172.${16 + (i >> 16)}.${(i >> 8) & 255}.${i & 255}`)!, i);
  for (let i = 0; i < 1000; i++) t.add(parseNet(`2001:db8:${i.toString(16)}::/48`)!, i);
  assert.equal(t.match('172.16.39.15'), 39 * 256 + 15);
  assert.equal(t.match('2001:db8:3e7::1'), 999);
  const rounds = 100_000;
  const t0 = process.hrtime.bigint();
  for (let i = 0; i < rounds; i++) t.match(i & 1 ? '172.16.1.1' : '8.8.8.8');
  process.stdout.write(`# prefix table lookup with 11,000 entries: ${(Number(process.hrtime.bigint() - t0) / rounds).toFixed(0)} ns\n`);
});

test('proxy_allowed style lists refuse a bad entry by name', () => {
  assert.throws(() => compileNetList(['10.0.0.0/8', 'nope'], 'common.proxy_allowed'), /common\.proxy_allowed: invalid IP address or network "nope"/);
  const m = compileNetList(['127.0.0.1', 'fd00::/8'], 'x');
  assert.ok(m('127.0.0.1') && m('fd00::1') && !m('127.0.0.2'));
});
