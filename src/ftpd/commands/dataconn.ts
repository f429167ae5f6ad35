/**
 * Setting up the data channel (PASV/EPSV/PORT/EPRT) and running one transfer
 * over it with ABOR support. The PASV address follows SFTPGo's binding
 * settings: force_passive_ip, passive_ip_overrides (by client network), then
 * the control connection's local address.
 */
import type * as net from 'node:net';
import * as dns from 'node:dns/promises';
import { isIP } from 'node:net';
import type { FtpSession } from '../session';
import { inNetwork, parseEprt, parsePort, sameIp, type HostPort } from '../addr';
import type { CommandTable } from './types';
import { fsErr, isFsError } from '../../common/errors';
import { errorReply } from '../replies';

async function passiveIp(s: FtpSession): Promise<string | undefined> {
  const b = s.deps.binding;
  for (const o of b.passive_ip_overrides) {
    if (o.networks.some((n) => inNetwork(s.remoteIp, n))) return o.ip;
  }
  if (b.force_passive_ip) return b.force_passive_ip;
  if (b.passive_host) {
    const r = await dns.lookup(b.passive_host, { family: 4 }).catch(() => undefined);
    if (r) return r.address;
  }
  return isIP(s.localIp) === 4 ? s.localIp : undefined;
}

async function pasv(s: FtpSession): Promise<void> {
  const ip = await passiveIp(s);
  // PASV can only carry an IPv4 address; IPv6 clients use EPSV
  if (!ip || isIP(ip) !== 4) return s.reply(425, 'PASV needs IPv4: use EPSV');
  let port: number;
  try {
    port = await s.data.listenPassive();
  } catch (e) {
    s.debug(`passive listen: ${String((e as Error).message)}`);
    return s.reply(425, 'Could not open a passive port');
  }
  return s.reply(227, `Entering Passive Mode (${ip.split('.').join(',')},${port >> 8},${port & 255})`);
}

async function epsv(s: FtpSession, arg: string): Promise<void> {
  const a = arg.trim().toUpperCase();
  if (a === 'ALL') return s.reply(200, 'EPSV ALL ok');
  if (a !== '' && a !== '1' && a !== '2') return s.reply(522, 'Network protocol not supported, use (1,2)');
  try {
    const port = await s.data.listenPassive();
    return s.reply(229, `Entering Extended Passive Mode (|||${port}|)`);
  } catch (e) {
    s.debug(`passive listen: ${String((e as Error).message)}`);
    return s.reply(425, 'Could not open a passive port');
  }
}

async function active(s: FtpSession, target: HostPort | undefined): Promise<void> {
  if (s.ctx.config.ftpd.disable_active_mode) return s.reply(502, 'Active mode is disabled');
  if (!target) return s.reply(501, 'Syntax error in parameters');
  // no FTP bounce (RFC 2577): only to the client's own address unless the binding allows it
  if (s.deps.binding.active_connections_security === 0 && !sameIp(target.host, s.remoteIp)) {
    s.debug(`refused active connection to ${target.host}:${target.port}`);
    return s.reply(504, 'Active connections are only allowed to your own address');
  }
  if (target.port < 1024) return s.reply(504, 'Active connections to privileged ports are not allowed');
  s.data.setActive(target);
  return s.reply(200, 'Active mode command successful');
}

/**
 * With tls_mode 1 on the binding, or ftp_security 1 on the user, data must be
 * protected (PROT P) as well as the control connection. ftpserverlib (SFTPGo)
 * answers 421 "TLS is required" when such a transfer would open in clear; here
 * the check runs before the file is opened, so a refused STOR truncates nothing.
 * Returns true when the command was refused (the reply is sent).
 */
export async function refuseClearData(s: FtpSession): Promise<boolean> {
  const required = s.deps.binding.tls_mode === 1 || s.ops?.user.filters?.ftp_security === 1;
  if (!required || s.dataProtected) return false;
  s.data.reset();
  s.debug('data connection refused: TLS is required (PROT P)');
  await s.reply(421, 'TLS is required');
  return true;
}

export type Outcome =
  | { ok: true }
  | { ok: false; stage: 'setup' | 'transfer'; error: unknown; aborted: boolean };

/**
 * Opens the data connection (sending 150 once it is up), runs `body` on it as
 * the session's current transfer, then `finish` (close the file, reply). ABOR
 * waits for `finish`, so the transfer's 426 goes out before ABOR's 226.
 */
export async function runTransfer(
  s: FtpSession,
  what: string,
  body: (sock: net.Socket) => Promise<void>,
  finish: (o: Outcome) => Promise<void>,
): Promise<void> {
  if (!s.data.configured) {
    return finish({ ok: false, stage: 'setup', error: new Error('no data connection'), aborted: false });
  }
  let aborted = false;
  let settle!: () => void;
  const done = new Promise<void>((r) => { settle = r; });
  s.transfer = { abort: () => { aborted = true; s.data.reset(); }, done };
  try {
    let out: Outcome = { ok: true };
    let sock: net.Socket | undefined;
    try {
      sock = await s.data.open(s.dataProtected ? s.deps.tls.context() : undefined, () => s.reply(150, `Opening data connection for ${what}`));
    } catch (e) {
      out = { ok: false, stage: 'setup', error: e, aborted };
    }
    if (sock) {
      try {
        await body(sock);
      } catch (e) {
        out = { ok: false, stage: 'transfer', error: e, aborted };
      } finally {
        s.data.reset();
      }
    }
    await finish(out);
  } finally {
    s.transfer = undefined;
    settle();
  }
}

/** The reply for a failed transfer: 425 no connection, the table for FsErrors, else 426. */
export function failureReply(s: FtpSession, o: Outcome, what: string): Promise<void> {
  if (o.ok) return Promise.resolve();
  if (o.stage === 'setup') return s.reply(425, "Can't open data connection");
  if (!o.aborted && isFsError(o.error)) {
    const r = errorReply(o.error, what);
    return s.reply(r.code, r.message);
  }
  return s.reply(426, 'Connection closed; transfer aborted');
}

/** An Error to hand to Download/Upload.close so the transfer is logged and rolled back as failed. */
export function asAbort(o: Outcome): Error {
  if (o.ok) return new Error('ok');
  if (isFsError(o.error)) return o.error;
  return fsErr('Aborted', o.aborted ? 'transfer aborted by the client' : 'data connection error', o.error);
}

async function abor(s: FtpSession): Promise<void> {
  const t = s.transfer;
  if (!t) {
    s.data.reset();
    return s.reply(225, 'No transfer to abort');
  }
  t.abort();
  await t.done;
  return s.reply(226, 'ABOR successful');
}

export const DATA_COMMANDS: CommandTable = {
  PASV: { auth: true, run: (s) => pasv(s) },
  EPSV: { auth: true, run: epsv },
  PORT: { auth: true, run: (s, arg) => active(s, parsePort(arg)) },
  EPRT: { auth: true, run: (s, arg) => active(s, parseEprt(arg)) },
  ABOR: { auth: true, run: (s) => abor(s) },
};

const LINGER_MS = 10_000;

/**
 * After sending the last byte (FIN or TLS close_notify queued by end()), wait
 * for the client to close before the socket is destroyed, so the tail of the
 * data is not cut off. Bounded: a client that never closes is dropped.
 */
export function lingerClose(sock: net.Socket): Promise<void> {
  if (sock.destroyed || sock.closed) return Promise.resolve();
  return new Promise((resolve) => {
    const t = setTimeout(() => { sock.destroy(); }, LINGER_MS);
    sock.once('close', () => { clearTimeout(t); resolve(); });
    if (!sock.writableEnded) sock.end();
    sock.resume();
  });
}
