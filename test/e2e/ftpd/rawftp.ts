/** A minimal FTP control-channel client for tests that need exact replies (PORT, ABOR, framing). */
import * as net from 'node:net';
import * as tls from 'node:tls';

export interface Reply { code: number; text: string }

export class RawFtp {
  private buf = '';
  private lines: string[] = [];
  private waiters: (() => void)[] = [];
  private closed = false;

  private constructor(public sock: net.Socket, readonly host: string) {
    this.attach(sock);
  }

  private attach(sock: net.Socket): void {
    sock.setEncoding('utf8');
    sock.on('data', (d: string) => {
      this.buf += d;
      let i: number;
      while ((i = this.buf.indexOf('\r\n')) >= 0) {
        this.lines.push(this.buf.slice(0, i));
        this.buf = this.buf.slice(i + 2);
      }
      this.wake();
    });
    sock.on('error', () => undefined);
    sock.on('close', () => { this.closed = true; this.wake(); });
  }

  private wake(): void {
    const w = this.waiters;
    this.waiters = [];
    for (const f of w) f();
  }

  static async connect(port: number, opts: { implicitTls?: boolean; host?: string } = {}): Promise<RawFtp> {
    const host = opts.host ?? '127.0.0.1';
    const sock = opts.implicitTls
      ? tls.connect({ port, host, rejectUnauthorized: false })
      : net.connect({ port, host });
    const c = new RawFtp(sock, host);
    const greeting = await c.read();
    if (greeting.code !== 220) throw new Error(`unexpected greeting ${greeting.code} ${greeting.text}`);
    return c;
  }

  /** One complete reply (multi-line aware); rejects if the server closes first. */
  async read(): Promise<Reply> {
    const collected: string[] = [];
    for (;;) {
      while (this.lines.length) {
        const l = this.lines.shift()!;
        collected.push(l);
        const first = collected[0]!;
        const code = first.slice(0, 3);
        const multi = first[3] === '-';
        if (!multi || (l.startsWith(code) && l[3] === ' ')) {
          return { code: Number(code), text: collected.join('\n') };
        }
      }
      if (this.closed) throw new Error('control connection closed');
      await new Promise<void>((r) => this.waiters.push(r));
    }
  }

  send(line: string): void { this.sock.write(`${line}\r\n`); }

  async cmd(line: string): Promise<Reply> {
    this.send(line);
    return this.read();
  }

  async login(user: string, pass: string): Promise<void> {
    const u = await this.cmd(`USER ${user}`);
    if (u.code !== 331) throw new Error(`USER: ${u.text}`);
    const p = await this.cmd(`PASS ${pass}`);
    if (p.code !== 230) throw new Error(`PASS: ${p.text}`);
  }

  /** AUTH TLS, then the control connection continues over TLS (test certificates are not verified). */
  async startTls(): Promise<void> {
    const r = await this.cmd('AUTH TLS');
    if (r.code !== 234) throw new Error(`AUTH TLS: ${r.text}`);
    const plain = this.sock;
    plain.removeAllListeners('data');
    plain.removeAllListeners('close');
    const secure = tls.connect({ socket: plain, rejectUnauthorized: false });
    await new Promise<void>((resolve, reject) => { secure.once('secureConnect', resolve); secure.once('error', reject); });
    this.sock = secure;
    this.attach(secure);
  }

  /** EPSV, then a data connection to the announced port (optionally from another local address). */
  async epsv(localAddress?: string): Promise<net.Socket> {
    const r = await this.cmd('EPSV');
    const m = /\(\|\|\|(\d+)\|\)/.exec(r.text);
    if (r.code !== 229 || !m) throw new Error(`EPSV: ${r.text}`);
    const s = net.connect({ port: Number(m[1]), host: this.host, localAddress });
    s.on('error', () => undefined);
    await new Promise<void>((resolve, reject) => { s.once('connect', resolve); s.once('error', reject); });
    return s;
  }

  close(): void { this.sock.destroy(); }
}

/** Collects everything a data socket sends until it closes. */
export function drain(s: net.Socket): Promise<Buffer> {
  const chunks: Buffer[] = [];
  return new Promise((resolve) => {
    s.on('data', (c: Buffer) => chunks.push(c));
    s.on('close', () => resolve(Buffer.concat(chunks)));
  });
}
