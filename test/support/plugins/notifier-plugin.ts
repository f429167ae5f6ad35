/**
 * A test notifier plugin: appends every event it receives, as one JSON line
 * with its kind ("fs", "provider", "log"), to --out. `--crash-once-on=<user>`
 * makes it exit without answering the first log event for that user (a
 * marker file next to --out remembers it), so the host's retry queue has to
 * deliver the event to the restarted plugin.
 */
import * as grpc from '@grpc/grpc-js';
import { appendFileSync, existsSync, writeFileSync } from 'node:fs';
import { argValue, hclog, servePlugin, type Misbehaviour } from '../go-plugin-server';

type Call = grpc.ServerUnaryCall<Record<string, unknown>, object>;

const out = argValue('out');
const crashOnceOn = argValue('crash-once-on');
const marker = `${out}.crashed`;

function record(kind: string, request: Record<string, unknown>): void {
  const data = request.object_data;
  const line: Record<string, unknown> = { kind, ...request };
  if (Buffer.isBuffer(data)) line.object_data = data.length > 0 ? JSON.parse(data.toString('utf8')) as unknown : null;
  appendFileSync(out, JSON.stringify(line) + '\n');
}

void servePlugin({
  cookie: ['SFTPGO_PLUGIN_NOTIFIER', 'c499b98b-cd59-4df2-92b3-6268817f4d80'],
  network: argValue('network', 'unix') === 'tcp' ? 'tcp' : 'unix',
  misbehave: argValue('misbehave', 'none') as Misbehaviour,
  services: [{
    file: 'notifier.proto', name: 'proto.Notifier', impl: {
      SendFsEvent(call: Call, cb: grpc.sendUnaryData<object>) {
        hclog('debug', 'fs event', { action: String(call.request.action) });
        record('fs', call.request);
        cb(null, {});
      },
      SendProviderEvent(call: Call, cb: grpc.sendUnaryData<object>) {
        hclog('debug', 'provider event', { action: String(call.request.action), object_type: String(call.request.object_type) });
        record('provider', call.request);
        cb(null, {});
      },
      SendLogEvent(call: Call, cb: grpc.sendUnaryData<object>) {
        if (crashOnceOn !== '' && call.request.username === crashOnceOn && !existsSync(marker)) {
          writeFileSync(marker, '');
          hclog('error', 'crashing on purpose before answering a log event');
          process.exit(7);
        }
        record('log', call.request);
        cb(null, {});
      },
    },
  }],
});
