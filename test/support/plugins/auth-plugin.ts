/**
 * A test auth plugin (a separate process speaking go-plugin over gRPC):
 * accepts user "plug" with password "plug-pw" (and user "keyuser" with the key given as --key),
 * answering with an SFTPGo user whose home is --home; `--crash-on=<user>`
 * makes it exit in the middle of that user's login, for the restart test.
 */
import * as grpc from '@grpc/grpc-js';
import path from 'node:path';
import { argValue, hclog, servePlugin, type Misbehaviour } from '../go-plugin-server';

type Call = grpc.ServerUnaryCall<Record<string, unknown>, object>;

const home = argValue('home', '/nonexistent');
const crashOn = argValue('crash-on');

function userJson(username: string): Buffer {
  return Buffer.from(JSON.stringify({ username, status: 1, home_dir: path.join(home, username), permissions: { '/': ['*'] } }));
}

void servePlugin({
  cookie: ['SFTPGO_PLUGIN_AUTH', 'd1ed507d-d2be-4a38-a460-6fe0b2cc7efc'],
  network: argValue('network', 'unix') === 'tcp' ? 'tcp' : 'unix',
  misbehave: argValue('misbehave', 'none') as Misbehaviour,
  services: [{
    file: 'auth.proto', name: 'proto.Auth', impl: {
      CheckUserAndPass(call: Call, cb: grpc.sendUnaryData<object>) {
        const { username, password, protocol } = call.request;
        hclog('debug', 'password check', { username: String(username), protocol: String(protocol) });
        if (crashOn !== '' && username === crashOn) process.exit(9);
        if (username === 'plug' && password === 'plug-pw') cb(null, { user: userJson('plug') });
        else if (username === 'unchanged' && password === 'unchanged-pw') cb(null, { user: Buffer.alloc(0) });
        else cb({ code: grpc.status.PERMISSION_DENIED, details: 'invalid credentials' });
      },
      CheckUserAndPublicKey(call: Call, cb: grpc.sendUnaryData<object>) {
        const { username, pubKey } = call.request;
        if (username === 'keyuser' && typeof pubKey === 'string' && pubKey.trim() === argValue('key')) cb(null, { user: userJson('keyuser') });
        else cb({ code: grpc.status.PERMISSION_DENIED, details: 'invalid credentials' });
      },
    },
  }],
});
