/**
 * A test KMS plugin: AES-256-GCM with a key derived from the URL and master
 * key the host sends (so a wrong URL or master key cannot decrypt), the
 * additional data as AAD; key "test-data-key", mode 1.
 */
import * as grpc from '@grpc/grpc-js';
import { createCipheriv, createDecipheriv, createHash, randomBytes } from 'node:crypto';
import { argValue, servePlugin, type Misbehaviour } from '../go-plugin-server';

type Req = Record<string, unknown>;
const keyOf = (r: Req): Buffer => createHash('sha256').update(`${String(r.url)}|${String(r.master_key)}`).digest();

void servePlugin({
  cookie: ['SFTPGO_PLUGIN_KMS', '223e3571-7ed2-4b96-b4b3-c7eb87d7ca1d'],
  network: argValue('network', 'unix') === 'tcp' ? 'tcp' : 'unix',
  misbehave: argValue('misbehave', 'none') as Misbehaviour,
  services: [{
    file: 'kms.proto', name: 'proto.KMS', impl: {
      Encrypt(call: grpc.ServerUnaryCall<Req, object>, cb: grpc.sendUnaryData<object>) {
        const iv = randomBytes(12);
        const c = createCipheriv('aes-256-gcm', keyOf(call.request), iv);
        c.setAAD(Buffer.from(String(call.request.additional_data)));
        const body = Buffer.concat([c.update(String(call.request.payload), 'utf8'), c.final()]);
        cb(null, { payload: Buffer.concat([iv, c.getAuthTag(), body]).toString('base64'), key: 'test-data-key', mode: 1 });
      },
      Decrypt(call: grpc.ServerUnaryCall<Req, object>, cb: grpc.sendUnaryData<object>) {
        try {
          if (call.request.key !== 'test-data-key' || call.request.mode !== 1) throw new Error('unknown data key or mode');
          const raw = Buffer.from(String(call.request.payload), 'base64');
          const d = createDecipheriv('aes-256-gcm', keyOf(call.request), raw.subarray(0, 12));
          d.setAuthTag(raw.subarray(12, 28));
          d.setAAD(Buffer.from(String(call.request.additional_data)));
          cb(null, { payload: Buffer.concat([d.update(raw.subarray(28)), d.final()]).toString('utf8') });
        } catch (e) {
          cb({ code: grpc.status.INVALID_ARGUMENT, details: `cannot decrypt: ${(e as Error).message}` });
        }
      },
    },
  }],
});
