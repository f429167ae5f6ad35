/**
 * Our SigV4 signer (src/vfs/s3/sigv4.ts) against AWS's published S3 example
 * (the "GET Object" request of the Signature Version 4 documentation) and
 * against the SDK's own signer (@smithy/signature-v4, as the S3 client
 * configures it: no double path encoding) on the requests the data path
 * sends: UploadPart with SSE-C headers and a session token, a ranged GET
 * pinned to an ETag, keys with characters that need encoding.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, createHmac, type Hash, type Hmac } from 'node:crypto';
import { SignatureV4 } from '@smithy/signature-v4';
import { canonicalQuery, encodeS3Path, SigV4Signer, EMPTY_SHA256, UNSIGNED_PAYLOAD, type RequestToSign, type SigningCredentials } from '../../../src/vfs/s3/sigv4';

const EXAMPLE: SigningCredentials = { accessKeyId: 'AKIAIOSFODNN7EXAMPLE', secretAccessKey: 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY' };

test('AWS documentation example: GET /test.txt with a range', () => {
  const signed = new SigV4Signer('us-east-1').sign({
    method: 'GET', host: 'examplebucket.s3.amazonaws.com', path: '/test.txt', query: {},
    headers: { range: 'bytes=0-9' }, payloadHash: EMPTY_SHA256,
  }, EXAMPLE, new Date('2013-05-24T00:00:00Z'));
  assert.equal(signed.authorization,
    'AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/aws4_request, ' +
    'SignedHeaders=host;range;x-amz-content-sha256;x-amz-date, ' +
    'Signature=f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41');
  assert.equal(signed['x-amz-date'], '20130524T000000Z');
});

function bytes(d: string | ArrayBuffer | ArrayBufferView): string | Buffer {
  if (typeof d === 'string') return d;
  return ArrayBuffer.isView(d) ? Buffer.from(d.buffer, d.byteOffset, d.byteLength) : Buffer.from(d);
}

/** node:crypto as the smithy signer's hash constructor */
class NodeSha256 {
  private readonly h: Hash | Hmac;
  constructor(secret?: string | ArrayBuffer | ArrayBufferView) {
    this.h = secret === undefined ? createHash('sha256') : createHmac('sha256', bytes(secret));
  }
  update(data: string | ArrayBuffer | ArrayBufferView): void { this.h.update(bytes(data)); }
  digest(): Promise<Uint8Array> { return Promise.resolve(this.h.digest()); }
}

async function smithyAuthorization(req: RequestToSign, creds: SigningCredentials, region: string, when: Date): Promise<string> {
  const [hostname, port] = req.host.split(':');
  const signer = new SignatureV4({ credentials: creds, region, service: 's3', sha256: NodeSha256, uriEscapePath: false, applyChecksum: false });
  const out = await signer.sign({
    method: req.method, protocol: 'http:', hostname, port: port ? Number(port) : undefined, path: req.path, query: req.query,
    headers: { ...req.headers, host: req.host, 'x-amz-content-sha256': req.payloadHash },
  }, { signingDate: when });
  return out.headers.authorization;
}

const SSE = {
  'x-amz-server-side-encryption-customer-algorithm': 'AES256',
  'x-amz-server-side-encryption-customer-key': Buffer.alloc(32, 3).toString('base64'),
  'x-amz-server-side-encryption-customer-key-md5': createHash('md5').update(Buffer.alloc(32, 3)).digest('base64'),
};

const CASES: { what: string; region: string; creds: SigningCredentials; req: RequestToSign }[] = [
  {
    what: 'UploadPart, path style, SSE-C, session token, a key that needs encoding',
    region: 'eu-west-3',
    creds: { ...EXAMPLE, sessionToken: 'FwoGZXIvYXdzEXAMPLE/token+=' },
    req: {
      method: 'PUT', host: '127.0.0.1:9000', path: encodeS3Path('/my-bucket', "home/d ir/ké+y~!*'()=&.bin"),
      query: { partNumber: '7', uploadId: 'VXBsb2FkIElE/x=y+z' }, headers: { 'content-length': '5242880', ...SSE }, payloadHash: UNSIGNED_PAYLOAD,
    },
  },
  {
    what: 'ranged GET pinned to an ETag, virtual host',
    region: 'us-east-1',
    creds: EXAMPLE,
    req: {
      method: 'GET', host: 'my-bucket.s3.us-east-1.amazonaws.com', path: encodeS3Path('', 'prefix/file 1.txt'), query: {},
      headers: { range: 'bytes=5242880-1073741823', 'if-match': '"9b2cf535f27731c974343645a3985328-3"' }, payloadHash: EMPTY_SHA256,
    },
  },
];

for (const c of CASES) {
  test(`same Authorization as @smithy/signature-v4: ${c.what}`, async () => {
    const when = new Date('2026-12-02T14:55:07Z');
    const ours = new SigV4Signer(c.region).sign(c.req, c.creds, when);
    assert.equal(ours.authorization, await smithyAuthorization(c.req, c.creds, c.region, when));
    if (c.creds.sessionToken) assert.equal(ours['x-amz-security-token'], c.creds.sessionToken);
  });
}

test('the signing key follows the day and the secret (cached, never stale)', async () => {
  const signer = new SigV4Signer('us-east-1');
  const req = CASES[1].req;
  for (const [creds, when] of [
    [EXAMPLE, new Date('2026-12-02T23:59:59Z')], [EXAMPLE, new Date('2026-12-03T00:00:01Z')],
    [{ ...EXAMPLE, secretAccessKey: 'rotated' }, new Date('2026-12-03T00:00:02Z')],
  ] as const) {
    assert.equal(signer.sign(req, creds, when).authorization, await smithyAuthorization(req, creds, 'us-east-1', when));
  }
});

test('paths and queries are encoded as AWS wants (RFC 3986, slashes kept in paths only)', () => {
  assert.equal(encodeS3Path('/b', "a b/c+d/é!*'()~"), '/b/a%20b/c%2Bd/%C3%A9%21%2A%27%28%29~');
  assert.equal(canonicalQuery({ uploadId: 'a/b=c d', partNumber: '2' }), 'partNumber=2&uploadId=a%2Fb%3Dc%20d');
});
