/**
 * SSH connections to remote SFTP servers, one per (endpoint, user,
 * credentials, fingerprints), shared by every session and folder using the
 * same settings and closed when the last user releases it. The host key is
 * checked against the configured SHA256 fingerprints (a mismatch refuses the
 * connection); a host key of this very server is refused unless
 * common.allow_self_connections is 1 (SFTPGo's loop guard). Every request has
 * a deadline: a server that stops answering fails the request and the
 * connection is dropped, so the next request reconnects.
 */
import { createHash } from 'node:crypto';
import { Client, type SFTPWrapper } from 'ssh2';
import { FsError } from '../../common/errors';
import type { StoredSecret as Secret } from '../fs';
import { hasSecretValue } from '../s3/config';
import { splitEndpoint, type SftpFsOptions } from './config';

export type SecretDecrypter = (s: Secret) => Promise<string>;

/** Loop guard: this server's own host key fingerprints and whether connecting to them is allowed. */
export interface SelfConnectionGuard {
  fingerprints(): Promise<readonly string[]>;
  allowed: boolean;
  /** with self connections allowed: an account of this server whose own storage is remote SFTP (a loop) */
  forbiddenSelfUser(username: string): Promise<boolean>;
}

const CONNECT_TIMEOUT_MS = 15_000;
export const SFTP_CALL_TIMEOUT_MS = 30_000;
const KEEPALIVE_MS = 30_000;

export interface PooledSftp {
  sftp: SFTPWrapper;
  /** ends the connection (after a timed-out request: the link is presumed dead) */
  drop(reason: string): void;
}

interface Entry {
  refs: number;
  conn: Promise<PooledSftp>;
}

export function sshFingerprintOf(hostKey: Buffer): string {
  return `SHA256:${createHash('sha256').update(hostKey).digest('base64').replace(/=+$/, '')}`;
}

export class SftpConnectionPool {
  private readonly entries = new Map<string, Entry>();

  constructor(private readonly guard: SelfConnectionGuard, private readonly warn: (msg: string) => void) {}

  private static keyOf(o: SftpFsOptions): string {
    const h = createHash('sha256');
    for (const part of [o.endpoint, o.username, o.fingerprints.join(','), o.password?.payload ?? '', o.privateKey?.payload ?? '',
      o.keyPassphrase?.payload ?? '']) h.update(part).update('\0');
    return h.digest('hex');
  }

  /** A connection for these settings; each acquire needs one release. */
  async acquire(o: SftpFsOptions, decrypt: SecretDecrypter): Promise<{ conn: PooledSftp; release: () => void }> {
    const key = SftpConnectionPool.keyOf(o);
    let entry = this.entries.get(key);
    if (!entry) {
      const created: Entry = { refs: 0, conn: this.open(o, decrypt, () => { if (this.entries.get(key) === created) this.entries.delete(key); }) };
      entry = created;
      this.entries.set(key, entry);
      created.conn.catch(() => { if (this.entries.get(key) === created) this.entries.delete(key); });
    }
    entry.refs++;
    const held = entry;
    let released = false;
    const release = (): void => {
      if (released) return;
      released = true;
      if (--held.refs > 0) return;
      if (this.entries.get(key) === held) this.entries.delete(key);
      held.conn.then((c) => c.drop('no more users'), () => undefined);
    };
    try {
      return { conn: await held.conn, release };
    } catch (e) {
      release();
      throw e;
    }
  }

  private async open(o: SftpFsOptions, decrypt: SecretDecrypter, forget: () => void): Promise<PooledSftp> {
    const { host, port } = splitEndpoint(o.endpoint);
    const self = await this.guard.fingerprints();
    const forbidden = this.guard.allowed && await this.guard.forbiddenSelfUser(o.username);
    const password = hasSecretValue(o.password) ? await decrypt(o.password) : undefined;
    const privateKey = hasSecretValue(o.privateKey) ? await decrypt(o.privateKey) : undefined;
    const passphrase = hasSecretValue(o.keyPassphrase) ? await decrypt(o.keyPassphrase) : undefined;
    const client = new Client();
    let refusal: string | undefined;
    const sftp = await new Promise<SFTPWrapper>((resolve, reject) => {
      const fail = (err: Error): void => { client.end(); reject(err); };
      // a refused host key or self connection is a configuration error; anything else: the server is not there
      const kind = (): 'Generic' | 'Unavailable' => (refusal ? 'Generic' : 'Unavailable');
      client.on('error', (err) => fail(new FsError(kind(), `sftpfs ${o.username}@${o.endpoint}: ${refusal ?? err.message}`, err)));
      client.on('close', () => fail(new FsError(kind(), `sftpfs ${o.username}@${o.endpoint}: ${refusal ?? 'connection closed'}`)));
      client.on('ready', () => client.sftp((err, s) => (err ? fail(new FsError('Generic', `sftpfs: ${err.message}`, err)) : resolve(s))));
      client.connect({
        host, port, username: o.username, password, privateKey, passphrase,
        readyTimeout: CONNECT_TIMEOUT_MS, keepaliveInterval: KEEPALIVE_MS, keepaliveCountMax: 3,
        hostVerifier: (hostKey: Buffer): boolean => {
          const fp = sshFingerprintOf(hostKey);
          if (self.includes(fp) && !this.guard.allowed) {
            refusal = 'SFTP self connections are not allowed (common.allow_self_connections)';
            return false;
          }
          if (self.includes(fp) && forbidden) {
            refusal = `SFTP loop or nested SFTP storage detected for the local account ${o.username}`;
            return false;
          }
          if (o.fingerprints.length > 0) {
            if (o.fingerprints.includes(fp)) return true;
            refusal = `invalid host key fingerprint ${fp}`;
            return false;
          }
          this.warn(`sftpfs ${o.username}@${o.endpoint}: login without host key validation, please provide at least a fingerprint (got ${fp})`);
          return true;
        },
      });
    });
    let dropped = false;
    const drop = (reason: string): void => {
      if (dropped) return;
      dropped = true;
      forget();
      if (reason !== 'no more users') this.warn(`sftpfs ${o.username}@${o.endpoint}: connection dropped: ${reason}`);
      client.end();
    };
    // a connection that dies is forgotten: the next request opens a new one
    client.on('close', () => drop('closed by the server'));
    return { sftp, drop };
  }
}
