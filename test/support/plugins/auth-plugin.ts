/**
 * A test auth plugin (a separate process speaking go-plugin over gRPC):
 * accepts user "plug" with password "plug-pw" (and user "keyuser" with the key given as --key),
 * answering with an SFTPGo user whose home is --home; `--crash-on=<user>`
 * makes it exit in the middle of that user's login, for the restart test.
 * Keyboard-interactive: user "kiuser" (password "ki-pw" in the returned
 * account) gets a two-round dialogue, "Favourite colour? " (echoed) and
 * "PIN: " (hidden) answered blue/4321, then "Password: " with
 * check_password 1 (the server verifies it and sends "OK"); the request ID
 * and step numbers must be consistent, else auth_result -1. User "kimute"
 * makes the plugin answer step 1 with no questions (a bad response).
 */
import * as grpc from '@grpc/grpc-js';
import path from 'node:path';
import { argValue, hclog, servePlugin, type Misbehaviour } from '../go-plugin-server';

type Call = grpc.ServerUnaryCall<Record<string, unknown>, object>;

const home = argValue('home', '/nonexistent');
const crashOn = argValue('crash-on');

function userJson(username: string, extra: Record<string, unknown> = {}): Buffer {
  return Buffer.from(JSON.stringify({ username, status: 1, home_dir: path.join(home, username), permissions: { '/': ['*'] }, ...extra }));
}

/** keyboard-interactive dialogues in progress: request ID -> the step expected next */
const dialogues = new Map<string, number>();
const FAIL = { instructions: '', questions: [], echos: [], auth_result: -1, check_password: 0 };

function keyboardStep(r: Record<string, unknown>): object {
  const id = String(r.requestID);
  const step = Number(r.step);
  const answers = (r.answers as string[] | undefined) ?? [];
  hclog('debug', 'keyboard step', { username: String(r.username), step, stored_password_is_hash: String(r.password).startsWith('$') });
  if (step === 1) {
    if (r.username === 'kimute') return { instructions: '', questions: [], echos: [], auth_result: 0, check_password: 0 };
    if (r.username !== 'kiuser' || dialogues.has(id) || r.ip === '') return FAIL;
    dialogues.set(id, 2);
    return { instructions: 'Answer the plugin', questions: ['Favourite colour? ', 'PIN: '], echos: [true, false], auth_result: 0, check_password: 0 };
  }
  const expected = dialogues.get(id);
  dialogues.delete(id);
  if (expected !== step) return FAIL;
  if (step === 2) {
    if (answers[0] !== 'blue' || answers[1] !== '4321') return FAIL;
    dialogues.set(id, 3);
    return { instructions: '', questions: ['Password: '], echos: [false], auth_result: 0, check_password: 1 };
  }
  return answers.length === 1 && answers[0] === 'OK' ? { ...FAIL, auth_result: 1 } : FAIL;
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
      CheckUserAndKeyboardInteractive(call: Call, cb: grpc.sendUnaryData<object>) {
        const { username } = call.request;
        if (username === 'kiuser') cb(null, { user: userJson('kiuser', { password: 'ki-pw' }) });
        else if (username === 'kimute') cb(null, { user: userJson('kimute', { password: 'mute-pw' }) });
        else cb({ code: grpc.status.NOT_FOUND, details: 'unknown user' });
      },
      SendKeyboardAuthRequest(call: Call, cb: grpc.sendUnaryData<object>) {
        cb(null, keyboardStep(call.request));
      },
      CheckUserAndPublicKey(call: Call, cb: grpc.sendUnaryData<object>) {
        const { username, pubKey } = call.request;
        if (username === 'keyuser' && typeof pubKey === 'string' && pubKey.trim() === argValue('key')) cb(null, { user: userJson('keyuser') });
        else cb({ code: grpc.status.PERMISSION_DENIED, details: 'invalid credentials' });
      },
    },
  }],
});
