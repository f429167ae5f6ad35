/**
 * The plugin side of go-plugin for tests: a Node process that behaves like a
 * Go plugin built with hashicorp/go-plugin (gRPC): refuses to run without its
 * magic cookie, serves the given services plus grpc.health.v1.Health
 * ("plugin" SERVING) and plugin.GRPCController/Shutdown on a unix socket or
 * a loopback TCP port, with AutoMTLS when PLUGIN_CLIENT_CERT is set (its own
 * P-521 certificate, the host's as the only client CA), prints the handshake
 * line and logs hclog JSON on stderr. `misbehave` makes it do what a broken
 * plugin does, for the host's error paths.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import * as grpc from '@grpc/grpc-js';
import { loadService } from '../../src/plugins/proto';
import { certForHandshake, makeMtlsIdentity } from '../../src/plugins/mtls-cert';

export type Misbehaviour = 'none' | 'no-handshake' | 'garbage' | 'exit' | 'wrong-version' | 'not-serving' | 'wrong-cert';

export interface PluginServeOptions {
  cookie: [string, string];
  services: { file: string; name: string; impl: grpc.UntypedServiceImplementation }[];
  network: 'unix' | 'tcp';
  misbehave: Misbehaviour;
}

export function hclog(level: string, message: string, extra: Record<string, unknown> = {}): void {
  process.stderr.write(JSON.stringify({ '@level': level, '@message': message, '@module': 'test-plugin', ...extra }) + '\n');
}

/** Reads `--name=value` arguments. */
export function argValue(name: string, fallback = ''): string {
  const a = process.argv.find((x) => x.startsWith(`--${name}=`));
  return a === undefined ? fallback : a.slice(name.length + 3);
}

/** Stays alive doing nothing (a pending promise alone would let node exit) until the host kills it. */
function hang(): Promise<void> {
  setInterval(() => undefined, 60_000);
  return new Promise<void>(() => undefined);
}

export async function servePlugin(o: PluginServeOptions): Promise<void> {
  if (process.env[o.cookie[0]] !== o.cookie[1]) {
    process.stderr.write('This binary is a plugin. These are not meant to be executed directly.\n');
    process.exit(1);
  }
  if (!(process.env.PLUGIN_PROTOCOL_VERSIONS ?? '').split(',').includes('1')) {
    process.stderr.write('incompatible plugin protocol versions\n');
    process.exit(1);
  }
  if (o.misbehave === 'exit') {
    hclog('error', 'exiting on purpose before the handshake');
    process.exit(3);
  }
  if (o.misbehave === 'garbage') {
    process.stdout.write('hello, I am not a handshake line\n');
    return hang();
  }
  if (o.misbehave === 'no-handshake') {
    hclog('info', 'never printing the handshake');
    return hang();
  }
  const server = new grpc.Server();
  for (const s of o.services) server.addService(loadService(s.file, s.name), s.impl);
  const notServing = o.misbehave === 'not-serving';
  server.addService(loadService('health.proto', 'grpc.health.v1.Health'), {
    Check: (_call: grpc.ServerUnaryCall<object, object>, cb: grpc.sendUnaryData<object>) => cb(null, { status: notServing ? 2 : 1 }),
  });
  server.addService(loadService('controller.proto', 'plugin.GRPCController'), {
    Shutdown: (_call: grpc.ServerUnaryCall<object, object>, cb: grpc.sendUnaryData<object>) => {
      hclog('info', 'shutdown requested by the host');
      cb(null, {});
      setImmediate(() => server.tryShutdown(() => process.exit(0)));
    },
  });
  const clientCert = process.env.PLUGIN_CLIENT_CERT;
  let creds = grpc.ServerCredentials.createInsecure();
  let certField = '';
  if (clientCert) {
    const id = makeMtlsIdentity();
    creds = grpc.ServerCredentials.createSsl(Buffer.from(clientCert), [{ cert_chain: Buffer.from(id.certPem), private_key: Buffer.from(id.keyPem) }], true);
    // a plugin announcing another certificate than the one it serves must not be trusted by the host
    certField = certForHandshake(o.misbehave === 'wrong-cert' ? makeMtlsIdentity().certDer : id.certDer);
  }
  let dir = '';
  let bindTo: string;
  if (o.network === 'unix') {
    dir = mkdtempSync(path.join(os.tmpdir(), 'plugin-'));
    bindTo = `unix://${path.join(dir, 'plugin.sock')}`;
  } else {
    bindTo = '127.0.0.1:0';
  }
  const port = await new Promise<number>((resolve, reject) => server.bindAsync(bindTo, creds, (e, p) => (e ? reject(e) : resolve(p))));
  process.on('exit', () => { if (dir) rmSync(dir, { recursive: true, force: true }); });
  process.on('SIGTERM', () => process.exit(0));
  const address = o.network === 'unix' ? path.join(dir, 'plugin.sock') : `127.0.0.1:${port}`;
  const version = o.misbehave === 'wrong-version' ? '7' : '1';
  process.stdout.write(`1|${version}|${o.network}|${address}|grpc|${certField}\n`);
  hclog('info', 'plugin serving', { network: o.network });
}
