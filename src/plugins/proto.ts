/**
 * The plugin .proto files (proto/plugins at the repository root, written
 * from SFTPGo's interface facts) loaded with proto-loader, and one typed
 * unary call helper so no caller touches untyped generated clients.
 */
import { existsSync } from 'node:fs';
import path from 'node:path';
import type * as grpc from '@grpc/grpc-js';
import type * as protoLoader from '@grpc/proto-loader';
import { lazy } from '../util/lazy';

// gRPC and proto-loader load when the first plugin starts, not with every server
export const grpcModule = lazy(() => require('@grpc/grpc-js') as typeof import('@grpc/grpc-js'));
const protoLoaderModule = lazy(() => require('@grpc/proto-loader') as typeof import('@grpc/proto-loader'));

export function findProtoDir(start: string = __dirname): string {
  let dir = start;
  for (let i = 0; i < 8; i++) {
    const candidate = path.join(dir, 'proto', 'plugins');
    if (existsSync(path.join(candidate, 'controller.proto'))) return candidate;
    const parent = path.dirname(dir);
    if (parent === dir) break;
    dir = parent;
  }
  throw new Error(`plugin proto folder "proto/plugins" not found above ${start}`);
}

const LOADER_OPTIONS: protoLoader.Options = { keepCase: true, longs: Number, enums: Number, defaults: true, arrays: true };

/** A service's definition by its full name (`proto.Auth`, `grpc.health.v1.Health`). */
export function loadService(file: string, fullName: string): grpc.ServiceDefinition {
  const dir = findProtoDir();
  const def = protoLoaderModule().loadSync(path.join(dir, file), { ...LOADER_OPTIONS, includeDirs: [dir] });
  const svc = def[fullName];
  // message types carry a `format`; a service is a map of methods
  if (!svc || 'format' in svc) {
    throw new Error(`service ${fullName} not found in ${file}`);
  }
  return svc as grpc.ServiceDefinition;
}

export class PluginCallError extends Error {
  constructor(message: string, readonly code?: grpc.status) {
    super(message);
  }
}

/** One unary call with a deadline; a gRPC error becomes a PluginCallError with its status details. */
export function unaryCall<Res>(client: grpc.Client, service: grpc.ServiceDefinition, method: string, request: object,
  timeoutMs: number): Promise<Res> {
  const m = service[method];
  if (!m) return Promise.reject(new PluginCallError(`unknown plugin method ${method}`));
  return new Promise((resolve, reject) => {
    client.makeUnaryRequest(m.path, (v: object) => m.requestSerialize(v), (b: Buffer) => m.responseDeserialize(b) as Res,
      request, new (grpcModule().Metadata)(), { deadline: Date.now() + timeoutMs }, (err, res) => {
        if (err) reject(new PluginCallError(`${method}: ${err.details || err.message}`, err.code));
        else if (res === undefined) reject(new PluginCallError(`${method}: empty response`));
        else resolve(res);
      });
  });
}
