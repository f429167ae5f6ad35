/**
 * The telemetry `auth_user_file`: an Apache htpasswd file checked with HTTP
 * basic auth. SFTPGo accepts bcrypt (`$2a$`, `$2b$`, `$2x$`, `$2y$`, `$2$`),
 * MD5 crypt (`$1$`) and Apache MD5 (`$apr1$`) there and nothing else; a line
 * in another format (SHA1 `{SHA}`, crypt, plain text) would be a user who can
 * never log in, so it is refused instead, naming its line.
 * Like SFTPGo, the file is re-read when its size or modification time
 * changes (checked on every request); a file that becomes unreadable or
 * invalid denies every request until it is fixed (fail closed).
 */
import { readFile, stat } from 'node:fs/promises';
import { verifyPassword } from '../dataprovider/passwords';

const ACCEPTED_PREFIXES = ['$2a$', '$2b$', '$2x$', '$2y$', '$2$', '$1$', '$apr1$'];

/** username → hash. Throws naming the first offending line (1-based). */
export function parseHtpasswd(text: string): Map<string, string> {
  const users = new Map<string, string>();
  const lines = text.split(/\r?\n/);
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!.trim();
    if (line === '' || line.startsWith('#')) continue;
    const colon = line.indexOf(':');
    if (colon <= 0) throw new Error(`line ${i + 1}: expected "username:hash"`);
    const username = line.slice(0, colon);
    const hash = line.slice(colon + 1).trim();
    if (hash.includes(':')) throw new Error(`line ${i + 1}: expected "username:hash", found more fields`);
    if (!ACCEPTED_PREFIXES.some((p) => hash.startsWith(p))) {
      throw new Error(`line ${i + 1}: user "${username}" has an unsupported hash format (bcrypt, $1$ and $apr1$ are supported)`);
    }
    if (users.has(username)) throw new Error(`line ${i + 1}: user "${username}" is listed twice`);
    users.set(username, hash);
  }
  return users;
}

/** The decoded `Authorization: Basic` credentials, or undefined when absent or malformed. */
export function basicCredentials(header: string | undefined): { username: string; password: string } | undefined {
  if (header === undefined) return undefined;
  const m = /^basic\s+(\S+)\s*$/i.exec(header);
  if (!m) return undefined;
  const decoded = Buffer.from(m[1]!, 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  if (colon < 0) return undefined;
  return { username: decoded.slice(0, colon), password: decoded.slice(colon + 1) };
}

export class HtpasswdFile {
  private users = new Map<string, string>();
  private stamp = '';
  private loading: Promise<void> | undefined;

  private constructor(readonly path: string) {}

  /** Reads and validates the file; throws when it cannot be read or has an invalid line. */
  static async open(path: string): Promise<HtpasswdFile> {
    const file = new HtpasswdFile(path);
    await file.refresh();
    return file;
  }

  /** Re-reads the file when its size or mtime changed; throws (and forgets every user) when it cannot. */
  private async refresh(): Promise<void> {
    try {
      const info = await stat(this.path);
      const stamp = `${info.size}:${info.mtimeMs}`;
      if (stamp === this.stamp) return;
      this.users = parseHtpasswd(await readFile(this.path, 'utf8'));
      this.stamp = stamp;
    } catch (e) {
      this.users = new Map();
      this.stamp = '';
      throw e;
    }
  }

  /** True when the credentials match a user of the (current) file. Throws when the file is unusable. */
  async check(username: string, password: string): Promise<boolean> {
    // concurrent requests share one re-read instead of racing on `users`
    this.loading ??= this.refresh().finally(() => { this.loading = undefined; });
    await this.loading;
    const hash = this.users.get(username);
    if (hash === undefined) return false;
    return verifyPassword(password, hash);
  }
}
