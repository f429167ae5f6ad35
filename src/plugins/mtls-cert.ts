/**
 * go-plugin's AutoMTLS certificate: a self-signed ECDSA P-521 certificate for
 * "localhost" (CA, client and server auth), made once per plugin start. Node
 * signs but cannot build X.509, so the few DER structures are encoded here;
 * Node's X509Certificate parses the result back as a check.
 */
import { X509Certificate, generateKeyPairSync, randomBytes, sign, type KeyObject } from 'node:crypto';

function tlv(tag: number, content: Buffer): Buffer {
  const n = content.length;
  let len: Buffer;
  if (n < 0x80) len = Buffer.from([n]);
  else {
    const bytes: number[] = [];
    for (let v = n; v > 0; v = Math.floor(v / 256)) bytes.unshift(v & 0xff);
    len = Buffer.from([0x80 | bytes.length, ...bytes]);
  }
  return Buffer.concat([Buffer.from([tag]), len, content]);
}

const seq = (...parts: Buffer[]): Buffer => tlv(0x30, Buffer.concat(parts));
const set = (...parts: Buffer[]): Buffer => tlv(0x31, Buffer.concat(parts));
const explicit = (n: number, inner: Buffer): Buffer => tlv(0xa0 + n, inner);
const bool = (v: boolean): Buffer => tlv(0x01, Buffer.from([v ? 0xff : 0]));
const octets = (b: Buffer): Buffer => tlv(0x04, b);
const bits = (b: Buffer, unused = 0): Buffer => tlv(0x03, Buffer.concat([Buffer.from([unused]), b]));
const utf8 = (s: string): Buffer => tlv(0x0c, Buffer.from(s, 'utf8'));

/**
 * A positive INTEGER in DER's minimal form: leading zero bytes dropped (a
 * random serial starting with 0x00 made 1 certificate in 256 unparseable:
 * OpenSSL refuses a padded INTEGER), one 0 put back when the top bit is set.
 */
export function integer(b: Buffer): Buffer {
  let start = 0;
  while (start < b.length - 1 && b[start] === 0) start++;
  const v = b.subarray(start);
  return tlv(0x02, v[0]! & 0x80 ? Buffer.concat([Buffer.from([0]), v]) : v);
}

function oid(dotted: string): Buffer {
  const arcs = dotted.split('.').map(Number);
  const out = [40 * arcs[0] + arcs[1]];
  for (const arc of arcs.slice(2)) {
    const chunk = [arc & 0x7f];
    for (let v = Math.floor(arc / 128); v > 0; v = Math.floor(v / 128)) chunk.unshift(0x80 | (v & 0x7f));
    out.push(...chunk);
  }
  return tlv(0x06, Buffer.from(out));
}

function utcTime(d: Date): Buffer {
  const p = (n: number): string => String(n).padStart(2, '0');
  const s = `${p(d.getUTCFullYear() % 100)}${p(d.getUTCMonth() + 1)}${p(d.getUTCDate())}${p(d.getUTCHours())}${p(d.getUTCMinutes())}${p(d.getUTCSeconds())}Z`;
  return tlv(0x17, Buffer.from(s, 'ascii'));
}

const extension = (id: string, critical: boolean, value: Buffer): Buffer =>
  critical ? seq(oid(id), bool(true), octets(value)) : seq(oid(id), octets(value));

export interface MtlsIdentity {
  /** the certificate, PEM (PLUGIN_CLIENT_CERT, or the TLS chain) */
  certPem: string;
  /** DER, as the handshake line carries it (base64) */
  certDer: Buffer;
  keyPem: string;
}

/** A fresh AutoMTLS identity valid from a minute ago for `validDays`. */
export function makeMtlsIdentity(now = new Date(), validDays = 3650): MtlsIdentity {
  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-521' });
  const sigAlg = seq(oid('1.2.840.10045.4.3.4')); // ecdsa-with-SHA512
  const name = seq(set(seq(oid('2.5.4.10'), utf8('HashiCorp'))), set(seq(oid('2.5.4.3'), utf8('localhost'))));
  const serial = randomBytes(16);
  serial[0] &= 0x7f;
  const notBefore = new Date(now.getTime() - 60_000);
  const notAfter = new Date(now.getTime() + validDays * 86_400_000);
  const extensions = seq(
    extension('2.5.29.19', true, seq(bool(true))), // basicConstraints CA
    // keyUsage: digitalSignature, keyEncipherment, keyCertSign
    extension('2.5.29.15', true, bits(Buffer.from([0xa4]), 2)),
    extension('2.5.29.37', false, seq(oid('1.3.6.1.5.5.7.3.1'), oid('1.3.6.1.5.5.7.3.2'))),
    extension('2.5.29.17', false, seq(tlv(0x82, Buffer.from('localhost', 'ascii')))),
  );
  const tbs = seq(
    explicit(0, integer(Buffer.from([2]))),
    integer(serial),
    sigAlg,
    name,
    seq(utcTime(notBefore), utcTime(notAfter)),
    name,
    publicKey.export({ type: 'spki', format: 'der' }),
    explicit(3, extensions),
  );
  const signature = sign('sha512', tbs, privateKey as KeyObject);
  const certDer = seq(tbs, sigAlg, bits(signature));
  const cert = new X509Certificate(certDer);
  if (!cert.verify(publicKey)) throw new Error('the generated plugin certificate does not verify');
  return { certPem: cert.toString(), certDer, keyPem: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString() };
}

/** The handshake's certificate field: DER in base64 without padding (Go's RawStdEncoding). */
export function certFromHandshake(field: string): X509Certificate {
  if (!/^[A-Za-z0-9+/]+={0,2}$/.test(field)) throw new Error('the certificate field is not base64');
  return new X509Certificate(Buffer.from(field, 'base64'));
}

export const certForHandshake = (der: Buffer): string => der.toString('base64').replace(/=+$/, '');
