import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as proxyProtocolJs from 'proxy-protocol-js';
import { parseProxyHeader, proxyV1, V2_SIGNATURE, MAX_V2_PAYLOAD } from '../../../src/perimeter/proxy-header';

function v2(cmd: number, famProto: number, addr: Buffer, tlv = Buffer.alloc(0)): Buffer {
  const head = Buffer.alloc(16);
  V2_SIGNATURE.copy(head, 0);
  head[12] = 0x20 | cmd;
  head[13] = famProto;
  head.writeUInt16BE(addr.length + tlv.length, 14);
  return Buffer.concat([head, addr, tlv]);
}

function v4Block(src: number[], dst: number[], sport: number, dport: number): Buffer {
  const b = Buffer.alloc(12);
  Buffer.from(src).copy(b, 0);
  Buffer.from(dst).copy(b, 4);
  b.writeUInt16BE(sport, 8);
  b.writeUInt16BE(dport, 10);
  return b;
}

test('v1: TCP4, TCP6 (canonical form), UNKNOWN, with the bytes after the header left', () => {
  const h = Buffer.concat([proxyV1({ ip: '203.0.113.5', port: 4000 }, { ip: '127.0.0.1', port: 22 }), Buffer.from('SSH-2.0-x\r\n')]);
  const r = parseProxyHeader(h);
  assert.equal(r.kind, 'header');
  if (r.kind !== 'header') return;
  assert.deepEqual(r.peer, { ip: '203.0.113.5', port: 4000 });
  assert.equal(h.subarray(r.length).toString(), 'SSH-2.0-x\r\n');
  const r6 = parseProxyHeader(Buffer.from('PROXY TCP6 2001:DB8:0:0:0:0:0:5 ::1 5 6\r\n'));
  assert.deepEqual(r6.kind === 'header' ? r6.peer : undefined, { ip: '2001:db8::5', port: 5 });
  const mapped = parseProxyHeader(Buffer.from('PROXY TCP6 ::ffff:198.51.100.1 ::1 5 6\r\n'));
  assert.deepEqual(mapped.kind === 'header' ? mapped.peer : undefined, { ip: '198.51.100.1', port: 5 });
  const unknown = parseProxyHeader(Buffer.from('PROXY UNKNOWN\r\n'));
  assert.equal(unknown.kind === 'header' && unknown.peer, undefined);
});

test('v1: partial is incomplete, garbage is invalid, too long without CRLF is invalid', () => {
  assert.equal(parseProxyHeader(Buffer.from('PRO')).kind, 'incomplete');
  assert.equal(parseProxyHeader(Buffer.from('PROXY TCP4 1.2.3.4 ')).kind, 'incomplete');
  for (const bad of ['PROXY TCP4 999.1.1.1 1.1.1.1 1 2\r\n', 'PROXY TCP4 1.1.1.1 1.1.1.1 1 70000\r\n', 'PROXY TCP9 a b 1 2\r\n',
    'PROXY TCP4 1.1.1.1 1.1.1.1 01 2\r\n', 'PROXY TCP6 1.1.1.1 ::1 1 2\r\n', 'PROXY TCP4 1.1.1.1 1.1.1.1 1\r\n']) {
    assert.equal(parseProxyHeader(Buffer.from(bad)).kind, 'invalid', bad);
  }
  assert.equal(parseProxyHeader(Buffer.from(`PROXY TCP4 ${'1'.repeat(120)}`)).kind, 'invalid');
  assert.equal(parseProxyHeader(Buffer.from('SSH-2.0-OpenSSH\r\n')).kind, 'absent');
  assert.equal(parseProxyHeader(Buffer.from('USER x\r\n')).kind, 'absent');
});

test('v2: PROXY over TCP4/TCP6, LOCAL, UDP and UNIX keep the socket address, bounds', () => {
  const h = v2(1, 0x11, v4Block([198, 51, 100, 7], [127, 0, 0, 1], 1234, 21), Buffer.from([0x04, 0x00, 0x01, 0x00]));
  const r = parseProxyHeader(Buffer.concat([h, Buffer.from('rest')]));
  assert.equal(r.kind, 'header');
  if (r.kind === 'header') {
    assert.deepEqual(r.peer, { ip: '198.51.100.7', port: 1234 });
    assert.equal(r.length, h.length);
  }
  const six = Buffer.alloc(36);
  six[0] = 0x20; six[1] = 0x01; six[15] = 0x09;
  six.writeUInt16BE(999, 32);
  const r6 = parseProxyHeader(v2(1, 0x21, six));
  assert.deepEqual(r6.kind === 'header' ? r6.peer : undefined, { ip: '2001::9', port: 999 });
  const local = parseProxyHeader(v2(0, 0x00, Buffer.alloc(0)));
  assert.equal(local.kind === 'header' && local.peer, undefined);
  const udp = parseProxyHeader(v2(1, 0x12, v4Block([1, 2, 3, 4], [5, 6, 7, 8], 1, 2)));
  assert.equal(udp.kind === 'header' && udp.peer, undefined);
  assert.equal(parseProxyHeader(h.subarray(0, 20)).kind, 'incomplete');
  assert.equal(parseProxyHeader(V2_SIGNATURE.subarray(0, 5)).kind, 'incomplete');
  const tooLong = v2(1, 0x11, Buffer.alloc(MAX_V2_PAYLOAD + 1));
  assert.equal(parseProxyHeader(tooLong.subarray(0, 16)).kind, 'invalid', 'refused from the length field, before the payload arrives');
  const badVersion = Buffer.from(h);
  badVersion[12] = 0x11;
  assert.equal(parseProxyHeader(badVersion).kind, 'invalid');
  assert.equal(parseProxyHeader(v2(1, 0x11, Buffer.alloc(4))).kind, 'invalid', 'address block shorter than TCP4 needs');
});

test('parse cost against proxy-protocol-js (printed, not asserted)', () => {
  const v1 = proxyV1({ ip: '203.0.113.5', port: 4000 }, { ip: '127.0.0.1', port: 22 });
  const bin = v2(1, 0x11, v4Block([198, 51, 100, 7], [127, 0, 0, 1], 1234, 21));
  const rounds = 100_000;
  const time = (fn: () => unknown): number => {
    const t0 = process.hrtime.bigint();
    for (let i = 0; i < rounds; i++) fn();
    return Number(process.hrtime.bigint() - t0) / rounds;
  };
  const ours1 = time(() => parseProxyHeader(v1));
  const ours2 = time(() => parseProxyHeader(bin));
  const text = v1.toString('latin1');
  const lib1 = time(() => proxyProtocolJs.V1ProxyProtocol.parse(text));
  const lib2 = time(() => proxyProtocolJs.V2ProxyProtocol.parse(new Uint8Array(bin)));
  // the library parses only complete headers; ours also classifies partial reads
  assert.deepEqual(proxyProtocolJs.V1ProxyProtocol.parse(text).source.ipAddress, '203.0.113.5');
  process.stdout.write(`# PROXY parse ns/header: ours v1 ${ours1.toFixed(0)} v2 ${ours2.toFixed(0)}; proxy-protocol-js v1 ${lib1.toFixed(0)} v2 ${lib2.toFixed(0)}\n`);
});
