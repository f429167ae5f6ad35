/**
 * go-plugin's process contract on the host side: the environment a plugin
 * starts with and the one handshake line it prints on stdout
 * (`core|app|network|address|protocol|cert`).
 */
import { createHash } from 'node:crypto';
import { promises as fsp } from 'node:fs';
import path from 'node:path';
import type { X509Certificate } from 'node:crypto';
import { certFromHandshake } from './mtls-cert';

export const CORE_PROTOCOL_VERSION = '1';
/** SFTPGo's plugin protocol version for every plugin type */
export const APP_PROTOCOL_VERSION = '1';

export interface Handshake {
  network: 'unix' | 'tcp';
  address: string;
  /** the plugin's certificate (AutoMTLS), the only one the host trusts */
  cert?: X509Certificate;
}

export class HandshakeError extends Error {}

/** Parses the handshake line; anything else than what go-plugin prints for gRPC is an error naming the field. */
export function parseHandshake(line: string, mtls: boolean): Handshake {
  const parts = line.trim().split('|');
  if (parts.length < 4) throw new HandshakeError(`unrecognized handshake line ${JSON.stringify(line.slice(0, 200))}`);
  const [core, app, network, address, protocol = 'netrpc', certField = ''] = parts;
  if (core !== CORE_PROTOCOL_VERSION) throw new HandshakeError(`incompatible core protocol version ${JSON.stringify(core)}, want ${CORE_PROTOCOL_VERSION}`);
  if (app !== APP_PROTOCOL_VERSION) throw new HandshakeError(`incompatible plugin protocol version ${JSON.stringify(app)}, want ${APP_PROTOCOL_VERSION}`);
  if (network !== 'unix' && network !== 'tcp') throw new HandshakeError(`unsupported network ${JSON.stringify(network)}`);
  if (protocol !== 'grpc') throw new HandshakeError(`unsupported plugin protocol ${JSON.stringify(protocol)}, only grpc`);
  if (network === 'tcp' && !/^(127\.0\.0\.1|\[::1\]|localhost):\d{1,5}$/.test(address)) {
    throw new HandshakeError(`plugin address ${JSON.stringify(address)} is not a loopback host:port`);
  }
  if (network === 'unix' && !path.isAbsolute(address)) throw new HandshakeError(`plugin socket ${JSON.stringify(address)} is not an absolute path`);
  if (!mtls) return { network, address };
  if (certField === '') throw new HandshakeError('auto_mtls is on but the plugin sent no certificate');
  try {
    return { network, address, cert: certFromHandshake(certField) };
  } catch (e) {
    throw new HandshakeError(`invalid plugin certificate in the handshake: ${(e as Error).message}`);
  }
}

/** SFTPGo getEnvVarPrefix: "none" = nothing, "*" = everything, default = the executable's name in capitals + "_". */
export function envPrefix(cmd: string, configured: string): string {
  if (configured === 'none') return '';
  if (configured !== '') return configured;
  const base = path.basename(cmd);
  return `${base.slice(0, base.length - path.extname(base).length).toUpperCase()}_`.replaceAll('-', '_');
}

export interface PluginEnvInput {
  cmd: string;
  envPrefix: string;
  envVars: string[];
  magicCookie: [string, string];
  clientCertPem?: string;
}

/** The plugin's whole environment: only what SFTPGo passes (the host's is skipped) plus go-plugin's variables. */
export function pluginEnv(inp: PluginEnvInput, hostEnv: NodeJS.ProcessEnv = process.env): Record<string, string> {
  const env: Record<string, string> = {};
  const prefix = envPrefix(inp.cmd, inp.envPrefix);
  if (prefix !== '') {
    for (const [k, v] of Object.entries(hostEnv)) {
      if (v !== undefined && (prefix === '*' || `${k}=${v}`.startsWith(prefix))) env[k] = v;
    }
  }
  for (const key of inp.envVars) env[key] = hostEnv[key] ?? '';
  env[inp.magicCookie[0]] = inp.magicCookie[1];
  env.PLUGIN_MIN_PORT = '10000';
  env.PLUGIN_MAX_PORT = '25000';
  env.PLUGIN_PROTOCOL_VERSIONS = APP_PROTOCOL_VERSION;
  if (inp.clientCertPem) env.PLUGIN_CLIENT_CERT = inp.clientCertPem;
  return env;
}

/** go-plugin SecureConfig: the executable's SHA-256 must be the configured one (hex). */
export async function checkChecksum(cmd: string, expectedHex: string): Promise<void> {
  if (expectedHex === '') return;
  const got = createHash('sha256').update(await fsp.readFile(cmd)).digest('hex');
  if (got !== expectedHex.toLowerCase()) throw new HandshakeError(`checksum mismatch for ${cmd}: sha256 ${got}, want ${expectedHex}`);
}
