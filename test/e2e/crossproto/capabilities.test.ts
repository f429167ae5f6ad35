/**
 * The operations a storage may not support (symlinks, chmod, resume) through
 * the protocols that have them (FTP SITE SYMLINK / SITE CHMOD / APPE, SFTP
 * SYMLINK / SETSTAT / OPEN with append; WebDAV and the user API have none),
 * for every storage profile. Which answer is expected comes from the backend's
 * declared features alone: declared → done (checked on the storage), not
 * declared → the protocol's "unsupported" answer (FTP 504, SFTP
 * SSH_FX_OP_UNSUPPORTED) and nothing changed in the storage.
 */
import { canResume } from '../../../src/common/upload-outcome';
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { driverFor, PROTOCOLS, type Driver, type Result } from './drivers';
import { addProfileUser, crossWithPeers, PROFILES, type TableStorage } from './profiles';

const ORIGINAL = 'original content\n';
const MORE = 'appended\n';

interface Capability {
  op: 'symlink' | 'chmod' | 'append';
  feature: 'symlinks' | 'chmod' | 'resume';
  run(d: Driver, at: (p: string) => string): Promise<Result> | undefined;
  /** what the storage holds when the operation was done, and when it was refused */
  check(table: TableStorage, done: boolean): Promise<void>;
}

const CAPABILITIES: Capability[] = [
  {
    op: 'symlink', feature: 'symlinks',
    run: (d, at) => d.symlink?.(at('/f.txt'), at('/link')),
    async check(table, done) {
      const st = await table.lstat('link');
      assert.equal(st?.isSymlink ?? false, done, `link stored: ${JSON.stringify(st)}`);
      if (!done) assert.equal(st, undefined, 'no object stands in for the link');
    },
  },
  {
    op: 'chmod', feature: 'chmod',
    run: (d, at) => d.chmod?.(at('/f.txt'), 0o600),
    async check(table, done) {
      if (done) assert.equal((await table.lstat('f.txt'))?.mode, 0o600);
      assert.equal(await table.read('f.txt'), ORIGINAL);
    },
  },
  {
    op: 'append', feature: 'resume',
    run: (d, at) => d.append?.(at('/f.txt'), Buffer.from(MORE)),
    async check(table, done) {
      assert.equal(await table.read('f.txt'), done ? ORIGINAL + MORE : ORIGINAL);
    },
  },
];

describe('FTP and SFTP: symlink, chmod and resume as the storage declares them', () => {
  const cross = crossWithPeers((c) => { c.ftpd.enable_site = true; c.common.symlink_mode = 1; });

  for (const profile of PROFILES) {
    describe(`profile ${profile}`, () => {
      let table: TableStorage;
      const user = `caps-${profile}`;
      before(async () => { table = await addProfileUser(cross.env, cross.peers, profile, { username: user, password: 'caps-pass' }); });
      after(async () => { await table?.close(); });
      const at = (p: string): string => `${table.root}${p}`;

      for (const proto of PROTOCOLS) {
        for (const cap of CAPABILITIES) {
          test(`${proto}: ${cap.op} is done where the storage declares ${cap.feature}, else unsupported`, async (t) => {
            await table.reset([], { 'f.txt': ORIGINAL });
            const d = driverFor(proto, cross.env, user, 'caps-pass');
            const r = cap.run(d, at);
            if (!r) {
              assert.equal(d.unsupported, undefined, `${proto} declares an unsupported code but no ${cap.op}`);
              t.skip(`${proto} has no ${cap.op} operation`);
              return;
            }
            const res = await r;
            // resume also covers a storage that rebuilds the object (resume_max_size, GCS compose): as the server decides
            const done = cap.feature === 'resume' ? canResume(table.features, Buffer.byteLength(ORIGINAL)) : table.features[cap.feature] === true;
            if (done) assert.ok(res.ok, `expected success, got ${res.ok ? '' : res.code} ${res.body.slice(0, 300)}`);
            else assert.deepEqual(res.ok ? 'success' : res.code, d.unsupported, res.body.slice(0, 300));
            await cap.check(table, done);
          });
        }
      }
    });
  }
});
