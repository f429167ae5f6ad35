/** A test notifier plugin: appends every fs event it receives, as one JSON line, to --out. */
import * as grpc from '@grpc/grpc-js';
import { appendFileSync } from 'node:fs';
import { argValue, hclog, servePlugin, type Misbehaviour } from '../go-plugin-server';

const out = argValue('out');

void servePlugin({
  cookie: ['SFTPGO_PLUGIN_NOTIFIER', 'c499b98b-cd59-4df2-92b3-6268817f4d80'],
  network: argValue('network', 'unix') === 'tcp' ? 'tcp' : 'unix',
  misbehave: argValue('misbehave', 'none') as Misbehaviour,
  services: [{
    file: 'notifier.proto', name: 'proto.Notifier', impl: {
      SendFsEvent(call: grpc.ServerUnaryCall<Record<string, unknown>, object>, cb: grpc.sendUnaryData<object>) {
        hclog('debug', 'fs event', { action: String(call.request.action) });
        appendFileSync(out, JSON.stringify(call.request) + '\n');
        cb(null, {});
      },
      SendProviderEvent(_call: grpc.ServerUnaryCall<object, object>, cb: grpc.sendUnaryData<object>) {
        cb(null, {});
      },
    },
  }],
});
