/**
 * The AutoMTLS certificate's DER: INTEGERs in minimal form whatever the
 * random serial's first bytes (a serial starting with 0x00 once made the
 * certificate unparseable, 1 start in 256), and certificates that parse.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import { integer, makeMtlsIdentity } from '../../../src/plugins/mtls-cert';

test('INTEGERs are minimal: leading zeros dropped, one put back before a set top bit', () => {
  const hex = (b: Buffer): string => b.toString('hex');
  assert.equal(hex(integer(Buffer.from([0x02]))), '020102');
  assert.equal(hex(integer(Buffer.from([0x00, 0x12, 0x34]))), '02021234');
  assert.equal(hex(integer(Buffer.from([0x00, 0x00, 0x92]))), '02020092');
  assert.equal(hex(integer(Buffer.from([0x92, 0x01]))), '0203009201');
  assert.equal(hex(integer(Buffer.from([0x00]))), '020100');
});

test('certificates parse back, whatever the serial drawn (bounded: 64 identities)', () => {
  for (let i = 0; i < 64; i++) {
    const id = makeMtlsIdentity();
    const cert = new X509Certificate(id.certDer);
    assert.ok(cert.checkIssued(cert), 'self-signed');
    assert.equal(cert.subject.includes('CN=localhost'), true);
  }
});
