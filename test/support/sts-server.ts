/**
 * A small STS for tests, on a free loopback port: AssumeRole over the AWS
 * query protocol (form-encoded POST), as the SDKs send it. Each call is
 * checked as AWS would before answering: the SigV4 Authorization header must
 * name the expected source access key and a signing scope of the request's
 * date, the expected region and the `sts` service; anything else is a 403.
 * Calls are recorded (the test asserts what the server asked for), temporary
 * credentials come from a fixed pool (so s3rver can be told them up front)
 * and the test chooses each answer's lifetime or a refusal.
 */
import { once } from 'node:events';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface TemporaryCredentials { accessKeyId: string; secretAccessKey: string; sessionToken: string }

export interface AssumeRoleCall {
  roleArn: string;
  roleSessionName: string;
  durationSeconds: number | undefined;
  /** the access key id of the Authorization header */
  signedBy: string;
  /** `<date>/<region>/<service>/aws4_request` */
  scope: string;
  /** the status this server answered */
  status: number;
}

export interface StsOptions {
  /** the source credentials' access key id the calls must be signed with */
  sourceAccessKey: string;
  region: string;
  /** how many temporary credentials the pool holds (default 4) */
  poolSize?: number;
}

export interface TestSts {
  endpoint: string;
  /** every temporary credential this server may hand out, in order */
  pool: TemporaryCredentials[];
  calls: AssumeRoleCall[];
  /** the lifetime of the next answers' Expiration, from now (default: the requested duration, else 3600 s) */
  lifetimeMs: number | undefined;
  /** answer every call with 403 AccessDenied */
  refuse: boolean;
  stop(): Promise<void>;
}

export function temporaryCredentialPool(size: number): TemporaryCredentials[] {
  return Array.from({ length: size }, (_, i) => ({
    accessKeyId: `ASIATESTROLE${String(i + 1).padStart(4, '0')}`,
    secretAccessKey: `temporary-secret-${i + 1}`,
    sessionToken: `session-token-${i + 1}-${'x'.repeat(32)}`,
  }));
}

const xmlEscape = (s: string): string => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

function errorXml(code: string, message: string): string {
  return `<ErrorResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/"><Error><Type>Sender</Type><Code>${code}</Code>`
    + `<Message>${xmlEscape(message)}</Message></Error><RequestId>test-sts</RequestId></ErrorResponse>`;
}

function assumeRoleXml(c: TemporaryCredentials, expiration: Date, roleArn: string, sessionName: string): string {
  return `<AssumeRoleResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/"><AssumeRoleResult>`
    + `<AssumedRoleUser><AssumedRoleId>AROATEST:${xmlEscape(sessionName)}</AssumedRoleId><Arn>${xmlEscape(roleArn)}/${xmlEscape(sessionName)}</Arn></AssumedRoleUser>`
    + `<Credentials><AccessKeyId>${c.accessKeyId}</AccessKeyId><SecretAccessKey>${c.secretAccessKey}</SecretAccessKey>`
    + `<SessionToken>${c.sessionToken}</SessionToken><Expiration>${expiration.toISOString()}</Expiration></Credentials>`
    + `</AssumeRoleResult><ResponseMetadata><RequestId>test-sts</RequestId></ResponseMetadata></AssumeRoleResponse>`;
}

/** `AWS4-HMAC-SHA256 Credential=AKID/20260101/us-east-1/sts/aws4_request, SignedHeaders=..., Signature=...` */
function parseAuthorization(h: string | undefined): { accessKey: string; scope: string; signedHeaders: string[] } | undefined {
  const m = /^AWS4-HMAC-SHA256 Credential=([^/,\s]+)\/([^,\s]+), ?SignedHeaders=([^,\s]+), ?Signature=[0-9a-f]{64}$/.exec(h ?? '');
  if (!m) return undefined;
  return { accessKey: m[1], scope: m[2], signedHeaders: m[3].split(';') };
}

async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const c of req) chunks.push(c as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

export async function startSts(opts: StsOptions): Promise<TestSts> {
  const pool = temporaryCredentialPool(opts.poolSize ?? 4);
  const state: TestSts = {
    endpoint: '', pool, calls: [], lifetimeMs: undefined, refuse: false,
    stop: async () => { server.closeAllConnections(); server.close(); await once(server, 'close'); },
  };
  const answer = (res: ServerResponse, status: number, body: string): void => {
    res.writeHead(status, { 'content-type': 'text/xml' }).end(body);
  };
  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const form = new URLSearchParams(await readBody(req));
    if (req.method !== 'POST' || form.get('Action') !== 'AssumeRole' || form.get('Version') !== '2011-06-15') {
      answer(res, 400, errorXml('InvalidAction', `unsupported ${req.method ?? ''} ${form.get('Action') ?? ''}`));
      return;
    }
    const auth = parseAuthorization(req.headers.authorization);
    const amzDate = String(req.headers['x-amz-date'] ?? '');
    const wantedScope = `${amzDate.slice(0, 8)}/${opts.region}/sts/aws4_request`;
    const duration = form.get('DurationSeconds');
    const call: AssumeRoleCall = {
      roleArn: form.get('RoleArn') ?? '', roleSessionName: form.get('RoleSessionName') ?? '',
      durationSeconds: duration === null ? undefined : Number(duration), signedBy: auth?.accessKey ?? '', scope: auth?.scope ?? '', status: 0,
    };
    state.calls.push(call);
    let status = 200;
    let body: string;
    if (!auth || !/^\d{8}T\d{6}Z$/.test(amzDate) || !auth.signedHeaders.includes('host') || !auth.signedHeaders.includes('x-amz-date')) {
      status = 403; body = errorXml('IncompleteSignature', 'the request is not signed with SigV4');
    } else if (auth.accessKey !== opts.sourceAccessKey) {
      status = 403; body = errorXml('InvalidClientTokenId', `unknown access key ${auth.accessKey}`);
    } else if (auth.scope !== wantedScope) {
      status = 403; body = errorXml('SignatureDoesNotMatch', `credential scope ${auth.scope}, expected ${wantedScope}`);
    } else if (state.refuse) {
      status = 403; body = errorXml('AccessDenied', `not authorized to perform sts:AssumeRole on ${call.roleArn}`);
    } else if (!call.roleArn || !call.roleSessionName) {
      status = 400; body = errorXml('ValidationError', 'RoleArn and RoleSessionName are required');
    } else {
      const issued = state.calls.filter((c) => c.status === 200).length;
      if (issued >= pool.length) {
        status = 500; body = errorXml('ServiceFailure', 'the test pool of temporary credentials is exhausted');
      } else {
        const lifetime = state.lifetimeMs ?? (call.durationSeconds ?? 3600) * 1000;
        body = assumeRoleXml(pool[issued], new Date(Date.now() + lifetime), call.roleArn, call.roleSessionName);
      }
    }
    call.status = status;
    answer(res, status, body);
  };
  const server = createServer((req, res) => {
    handle(req, res).catch((e: unknown) => answer(res, 500, errorXml('InternalFailure', String(e))));
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  state.endpoint = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return state;
}
