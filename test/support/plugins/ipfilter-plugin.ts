/** A test IP filter plugin: denies the addresses listed in --deny (comma separated), logs what it was asked. */
import * as grpc from '@grpc/grpc-js';
import { argValue, hclog, servePlugin, type Misbehaviour } from '../go-plugin-server';

const denied = argValue('deny').split(',').filter((s) => s !== '');

void servePlugin({
  cookie: ['SFTPGO_PLUGIN_IPFILTER', '368dbdab-4839-4bec-b75f-fc74a2d50f24'],
  network: argValue('network', 'unix') === 'tcp' ? 'tcp' : 'unix',
  misbehave: argValue('misbehave', 'none') as Misbehaviour,
  services: [{
    file: 'ipfilter.proto', name: 'proto.IPFilter', impl: {
      CheckIP(call: grpc.ServerUnaryCall<Record<string, unknown>, object>, cb: grpc.sendUnaryData<object>) {
        const ip = String(call.request.ip);
        hclog('debug', 'check ip', { ip, protocol: String(call.request.protocol) });
        if (denied.includes(ip)) cb({ code: grpc.status.PERMISSION_DENIED, details: `ip ${ip} is not allowed` });
        else cb(null, {});
      },
    },
  }],
});
