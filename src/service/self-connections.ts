/**
 * SFTPGo's loop guard for the remote SFTP backend: this server's own host
 * key fingerprints (read from the configured key files, never generated
 * here), and, when common.allow_self_connections is 1, the accounts of this
 * server that must not be reached through it because their own storage is
 * remote SFTP (a chain of self connections would never end).
 */
import { readFile } from 'node:fs/promises';
import * as path from 'node:path';
import { utils } from 'ssh2';
import type { User } from '../dataprovider/models';
import { DEFAULT_HOST_KEY_NAMES, sshFingerprint } from '../sftpd/hostkeys';
import type { SelfConnectionGuard } from '../vfs/sftpfs/pool';

export interface SelfConnectionDeps {
  configDir: string;
  hostKeys: readonly string[];
  allowSelfConnections: number;
  getUser(username: string): Promise<User | undefined>;
}

async function fingerprintsOf(configDir: string, configured: readonly string[]): Promise<string[]> {
  const names = configured.filter((k) => k.trim() !== '');
  const files = (names.length > 0 ? names : [...DEFAULT_HOST_KEY_NAMES]).map((k) => (path.isAbsolute(k) ? k : path.join(configDir, k)));
  const out: string[] = [];
  for (const file of files) {
    const data = await readFile(file).catch(() => undefined);
    if (!data) continue;
    const key = utils.parseKey(data);
    const parsed = Array.isArray(key) ? key[0] : key;
    if (parsed && !(parsed instanceof Error)) out.push(sshFingerprint(parsed.getPublicSSH()));
  }
  return out;
}

const usesSftpStorage = (u: User): boolean =>
  u.filesystem?.provider === 5 || (u.virtual_folders ?? []).some((f) => f.filesystem?.provider === 5);

export function selfConnectionGuard(deps: SelfConnectionDeps): SelfConnectionGuard {
  let cached: Promise<string[]> | undefined;
  return {
    allowed: deps.allowSelfConnections === 1,
    // read once: the files exist once sftpd started; a failed read is retried next time
    fingerprints: () => {
      cached ??= fingerprintsOf(deps.configDir, deps.hostKeys).then((fps) => {
        if (fps.length === 0) cached = undefined;
        return fps;
      });
      return cached;
    },
    forbiddenSelfUser: async (username: string) => {
      const u = await deps.getUser(username);
      return u !== undefined && usesSftpStorage(u);
    },
  };
}
