/**
 * Test peers for the perimeter: Debian's haproxy in the foreground with a
 * generated TCP config, and clients bound to chosen 127.0.0.0/8 sources
 * (ssh2, lftp, node http), optionally writing a hand-made PROXY header first.
 */
import { spawn, execFile, type ChildProcess } from 'node:child_process';
import { promises as fsp } from 'node:fs';
import * as net from 'node:net';
import * as http from 'node:http';
import path from 'node:path';
import { Client } from 'ssh2';
import { waitForPort } from '../../support/net';

export interface ProxyRoute { listen: string; target: string; sendProxy: 'send-proxy' | 'send-proxy-v2' }

export interface Haproxy { stop(): Promise<void> }

/** Starts haproxy -db (foreground) on the routes; resolves once every listener accepts. */
export async function startHaproxy(dir: string, routes: ProxyRoute[]): Promise<Haproxy> {
  const lines = ['global', '  maxconn 200', 'defaults', '  mode tcp', '  timeout connect 5s', '  timeout client 60s', '  timeout server 60s'];
  routes.forEach((r, i) => {
    lines.push(`listen route${i}`, `  bind ${r.listen}`, `  server s${i} ${r.target} ${r.sendProxy}`);
  });
  const file = path.join(dir, `haproxy-${Date.now()}.cfg`);
  await fsp.writeFile(file, `${lines.join('\n')}\n`);
  const child: ChildProcess = spawn('haproxy', ['-f', file, '-db'], { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr?.on('data', (d: Buffer) => { stderr += d.toString(); });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  try {
    for (const r of routes) {
      const [host, portText] = r.listen.split(/:(?=[^:]+$)/) as [string, string];
      const port = Number(portText.split('-')[0]);
      await Promise.race([waitForPort(port, host, 20_000), exited.then(() => { throw new Error(`haproxy exited: ${stderr}`); })]);
    }
  } catch (e) {
    child.kill('SIGKILL');
    await exited;
    throw e;
  }
  return {
    async stop() {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
      await exited;
    },
  };
}

export interface DialOptions { host?: string; localAddress?: string; header?: Buffer }

/** A TCP connection from `localAddress`, with `header` written first when given. */
export function dial(port: number, opts: DialOptions = {}): Promise<net.Socket> {
  return new Promise((resolve, reject) => {
    const s = net.connect({ host: opts.host ?? '127.0.0.1', port, localAddress: opts.localAddress });
    s.once('error', reject);
    s.once('connect', () => {
      s.off('error', reject);
      if (opts.header) s.write(opts.header);
      resolve(s);
    });
  });
}

/** Resolves once the server closed the socket (end or close), with what it sent before. */
export function waitClosed(s: net.Socket): Promise<string> {
  return new Promise((resolve) => {
    let got = '';
    s.on('data', (d: Buffer) => { got += d.toString('latin1'); });
    s.on('error', () => undefined);
    if (s.destroyed) { resolve(got); return; }
    s.once('close', () => resolve(got));
  });
}

/** SSH password login; 'ok' or the error message. */
export async function sshLogin(port: number, username: string, password: string, opts: DialOptions = {}): Promise<string> {
  let sock: net.Socket;
  try {
    sock = await dial(port, opts);
  } catch (e) {
    return `connect: ${(e as Error).message}`;
  }
  return new Promise((resolve) => {
    const c = new Client();
    let done = false;
    const finish = (r: string): void => { if (!done) { done = true; resolve(r); c.end(); sock.destroy(); } };
    c.on('ready', () => finish('ok'));
    c.on('error', (e) => finish(`error: ${e.message}`));
    c.on('close', () => finish('error: closed'));
    c.connect({ sock, username, password, readyTimeout: 30_000, tryKeyboard: false });
  });
}

/** One lftp session (plain FTP) from `bindAddress`; exit code and output. */
export function lftpRun(host: string, port: number, user: string, password: string, bindAddress: string, script: string[], cwd: string):
  Promise<{ code: number; out: string }> {
  const all = [
    'set cmd:fail-exit yes', 'set net:max-retries 1', 'set net:timeout 20', 'set ftp:ssl-allow no', 'set ftp:passive-mode yes',
    'set ftp:prefer-epsv no', `set net:socket-bind-ipv4 ${bindAddress}`, 'set cmd:interactive no', 'set xfer:clobber yes',
    `open -u ${user},${password} ftp://${host}:${port}`, ...script,
  ].join('\n');
  return new Promise((resolve) => {
    const child = execFile('lftp', ['-c', all], { timeout: 90_000, cwd }, (err, stdout, stderr) => {
      const code = err ? (typeof (err as { code?: unknown }).code === 'number' ? (err as { code: number }).code : 1) : 0;
      resolve({ code, out: `${stdout}${stderr}` });
    });
    child.on('error', () => undefined);
  });
}

/** An HTTP request from `localAddress` (optionally after a raw PROXY header); status and body. */
export function httpGet(port: number, urlPath: string, opts: DialOptions & { headers?: Record<string, string> } = {}): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const header = opts.header;
    const host = opts.host ?? '127.0.0.1';
    const req = http.request({
      host, port, path: urlPath, headers: opts.headers, localAddress: opts.localAddress, agent: false,
      createConnection: header ? () => {
        const s = net.connect({ host, port, localAddress: opts.localAddress });
        s.write(header);
        return s;
      } : undefined,
    }, (res) => {
      let body = '';
      res.on('data', (d: Buffer) => { body += d.toString(); });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('error', reject);
    req.setTimeout(30_000, () => req.destroy(new Error('http timeout')));
    req.end();
  });
}

export function basic(user: string, password: string): string {
  return `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`;
}
