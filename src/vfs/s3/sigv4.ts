/**
 * AWS Signature Version 4 for the S3 requests we send ourselves (s3/hot.ts):
 * the canonical request, the string to sign and the Authorization header,
 * with node:crypto. S3 rules: the path is encoded once (no double encoding),
 * and the payload hash travels in x-amz-content-sha256 (UNSIGNED-PAYLOAD for
 * bodies, as the SDK does for streamed bodies: hashing every 5 MiB part costs
 * about a CPU-second per GiB). The signing key is derived once per day,
 * region and secret, not per request.
 */
import { createHash, createHmac } from 'node:crypto';

export const UNSIGNED_PAYLOAD = 'UNSIGNED-PAYLOAD';
/** SHA-256 of the empty body (GET) */
export const EMPTY_SHA256 = 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855';

export interface SigningCredentials {
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken?: string;
}

export interface RequestToSign {
  method: string;
  /** "host" or "host:port", as sent in the Host header */
  host: string;
  /** the path as sent on the wire, already encoded with encodeS3Path */
  path: string;
  /** query parameters, not encoded */
  query: Record<string, string>;
  /** header names in lower case; host, x-amz-date, x-amz-content-sha256 and the token are added here */
  headers: Record<string, string>;
  payloadHash: string;
}

/** RFC 3986 encoding as AWS wants it: everything but A-Z a-z 0-9 - _ . ~ is %XX. */
export function awsUriEncode(s: string): string {
  return encodeURIComponent(s).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
}

/** An object key as a URL path below `base` ("" or "/bucket"): each segment encoded, the slashes kept. */
export function encodeS3Path(base: string, key: string): string {
  return `${base}/${key.split('/').map(awsUriEncode).join('/')}`;
}

export function canonicalQuery(query: Record<string, string>): string {
  return Object.keys(query).sort().map((k) => `${awsUriEncode(k)}=${awsUriEncode(query[k])}`).join('&');
}

/** "20261202T101500Z" and "20261202" of a date */
export function amzDate(d: Date): { stamp: string; day: string } {
  const stamp = d.toISOString().replace(/[-:]/g, '').replace(/\.\d{3}/, '');
  return { stamp, day: stamp.slice(0, 8) };
}

const sha256Hex = (s: string): string => createHash('sha256').update(s, 'utf8').digest('hex');

export class SigV4Signer {
  private cachedKey?: { day: string; secret: string; key: Buffer };

  constructor(private readonly region: string, private readonly service = 's3') {}

  private signingKey(secret: string, day: string): Buffer {
    const c = this.cachedKey;
    if (c && c.day === day && c.secret === secret) return c.key;
    let key = createHmac('sha256', `AWS4${secret}`).update(day).digest();
    for (const part of [this.region, this.service, 'aws4_request']) key = createHmac('sha256', key).update(part).digest();
    this.cachedKey = { day, secret, key };
    return key;
  }

  /** Returns the headers to send: the request's own plus host, x-amz-date, x-amz-content-sha256, the token and authorization. */
  sign(req: RequestToSign, creds: SigningCredentials, now = new Date()): Record<string, string> {
    const { stamp, day } = amzDate(now);
    const headers: Record<string, string> = { ...req.headers, host: req.host, 'x-amz-date': stamp, 'x-amz-content-sha256': req.payloadHash };
    if (creds.sessionToken) headers['x-amz-security-token'] = creds.sessionToken;
    const names = Object.keys(headers).map((h) => h.toLowerCase()).sort();
    const lower: Record<string, string> = {};
    for (const [k, v] of Object.entries(headers)) lower[k.toLowerCase()] = v.trim().replace(/\s+/g, ' ');
    const signedHeaders = names.join(';');
    const canonical = [
      req.method, req.path, canonicalQuery(req.query), names.map((n) => `${n}:${lower[n]}\n`).join(''), signedHeaders, req.payloadHash,
    ].join('\n');
    const scope = `${day}/${this.region}/${this.service}/aws4_request`;
    const toSign = `AWS4-HMAC-SHA256\n${stamp}\n${scope}\n${sha256Hex(canonical)}`;
    const signature = createHmac('sha256', this.signingKey(creds.secretAccessKey, day)).update(toSign).digest('hex');
    headers.authorization = `AWS4-HMAC-SHA256 Credential=${creds.accessKeyId}/${scope}, SignedHeaders=${signedHeaders}, Signature=${signature}`;
    return headers;
  }
}
