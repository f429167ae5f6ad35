/**
 * Per-directory permissions through FTP (basic-ftp), SFTP (ssh2), WebDAV
 * (curl) and the REST user API (fetch) on one server: one table of cases, each run through every protocol
 * and every storage profile (local home, home on S3, GCS or HTTPFs, virtual folder on Azure Blob) on a freshly built tree, checking the protocol's code (FTP 550, SFTP permission
 * denied, WebDAV and HTTP 403) and the
 * effect on the storage both ways (done when allowed, nothing changed when denied).
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { addProfileUser, crossWithPeers, PROFILES, type TableStorage } from './profiles';
import { driverFor, PROTOCOLS, type Driver, type Proto, type Result } from './drivers';

const PERMS: Record<string, string[]> = {
  '/': ['list', 'download'],
  '/up': ['list', 'upload'],
  '/ow': ['list', 'upload', 'overwrite'],
  '/del': ['list', 'delete'],
  '/delf': ['list', 'delete_files'],
  '/mk': ['list', 'create_dirs'],
  '/rn': ['list', 'rename'],
  '/rnf': ['list', 'rename_files'],
  '/nolist': ['download'],
};

const FILES: Record<string, string> = {
  'file.txt': 'root file\n', 'up/existing.txt': 'up original\n', 'ow/existing.txt': 'ow original\n',
  'del/f.txt': 'del f\n', 'delf/f.txt': 'delf f\n', 'rn/a.txt': 'rn a\n', 'rnf/a.txt': 'rnf a\n', 'nolist/f.txt': 'in nolist\n',
};
const DIRS = ['up', 'ow', 'del/sub', 'delf/sub', 'mk', 'rn/dir', 'rnf/dir', 'nolist'];
const NEW_DATA = Buffer.from('new content from the client\n');

/** allowed everywhere, denied everywhere, or per protocol where SFTPGo differs */
type Allow = boolean | Record<Proto, boolean>;
type Case =
  | { op: 'list'; path: string; allow: Allow; names: string[] }
  | { op: 'download' | 'removeFile' | 'removeDir' | 'mkdir'; path: string; allow: Allow }
  | { op: 'upload'; path: string; allow: Allow }
  | { op: 'rename'; path: string; to: string; allow: Allow };

const CASES: Case[] = [
  { op: 'list', path: '/', allow: true, names: ['file.txt', 'up', 'nolist'] },
  { op: 'list', path: '/up', allow: true, names: ['existing.txt'] },
  { op: 'list', path: '/nolist', allow: false, names: ['f.txt'] },
  { op: 'download', path: '/file.txt', allow: true },
  { op: 'download', path: '/up/existing.txt', allow: false },
  // WebDAV GET and the user API's GET /user/files stat the file first, and a stat needs list on the parent
  // (SFTPGo's webDavFile.Stat, getUserFile): FTP RETR and SFTP OPEN do not
  { op: 'download', path: '/nolist/f.txt', allow: { FTP: true, DAV: false, SFTP: true, HTTP: false } },
  { op: 'upload', path: '/new.txt', allow: false },
  { op: 'upload', path: '/up/new.txt', allow: true },
  { op: 'upload', path: '/up/existing.txt', allow: false },
  { op: 'upload', path: '/ow/existing.txt', allow: true },
  { op: 'upload', path: '/ow/new.txt', allow: true },
  { op: 'upload', path: '/mk/new.txt', allow: false },
  { op: 'removeFile', path: '/del/f.txt', allow: true },
  { op: 'removeFile', path: '/delf/f.txt', allow: true },
  { op: 'removeFile', path: '/file.txt', allow: false },
  { op: 'removeFile', path: '/up/existing.txt', allow: false },
  { op: 'removeDir', path: '/del/sub', allow: true },
  { op: 'removeDir', path: '/delf/sub', allow: false },
  { op: 'removeDir', path: '/rn/dir', allow: false },
  { op: 'mkdir', path: '/mk/d', allow: true },
  { op: 'mkdir', path: '/d', allow: false },
  { op: 'mkdir', path: '/up/d', allow: false },
  { op: 'rename', path: '/rn/a.txt', to: '/rn/b.txt', allow: true },
  { op: 'rename', path: '/rnf/a.txt', to: '/rnf/b.txt', allow: true },
  { op: 'rename', path: '/file.txt', to: '/file2.txt', allow: false },
  { op: 'rename', path: '/rn/a.txt', to: '/up/a.txt', allow: false },
  { op: 'rename', path: '/up/existing.txt', to: '/rn/x.txt', allow: false },
  { op: 'rename', path: '/rn/dir', to: '/rn/dir2', allow: true },
  { op: 'rename', path: '/rnf/dir', to: '/rnf/dir2', allow: false },
];

const allowed = (c: Case, proto: Proto): boolean => (typeof c.allow === 'boolean' ? c.allow : c.allow[proto]);

function label(c: Case, proto: Proto): string {
  return `${c.op} ${c.path}${c.op === 'rename' ? ` → ${c.to}` : ''}: ${allowed(c, proto) ? 'allowed' : 'denied'}`;
}

/** a table path ("/up/x") as stored, relative to the table's root ("up/x") */
const rel = (p: string): string => p.replace(/^\/+/, '');

describe('FTP, SFTP, WebDAV and HTTP: per-directory permissions', () => {
  const cross = crossWithPeers();

  for (const profile of PROFILES) {
    describe(`profile ${profile}`, () => {
      let table: TableStorage;
      const user = `perm-${profile}`;
      before(async () => { table = await addProfileUser(cross.env, cross.peers, profile, { username: user, password: 'perm-pass', permissions: PERMS }); });
      after(async () => { await table?.close(); });

      const at = (p: string): string => `${table.root}${p === '/' && table.root ? '' : p}`;
      function run(d: Driver, c: Case): Promise<Result> {
        switch (c.op) {
          case 'list': return d.list(at(c.path));
          case 'download': return d.download(at(c.path));
          case 'upload': return d.upload(at(c.path), NEW_DATA);
          case 'removeFile': return d.removeFile(at(c.path));
          case 'removeDir': return d.removeDir(at(c.path));
          case 'mkdir': return d.mkdir(at(c.path));
          case 'rename': return d.rename(at(c.path), at(c.to));
        }
      }

      /** What must be stored after the operation, both when it was allowed and when it was denied. */
      async function checkStored(c: Case, allow: boolean, r: Result): Promise<void> {
        const p = rel(c.path);
        const original = FILES[p];
        switch (c.op) {
          case 'list':
            for (const n of c.names) assert.equal(r.body.includes(n), allow, `listing shows ${n}: ${r.body}`);
            break;
          case 'download':
            assert.equal(r.body.includes(original!), allow, `content served: ${r.body}`);
            break;
          case 'upload':
            if (allow) assert.equal(await table.read(p), NEW_DATA.toString());
            else if (original !== undefined) assert.equal(await table.read(p), original);
            else assert.equal(await table.exists(p), false, `${c.path} was created`);
            break;
          case 'removeFile':
          case 'removeDir':
            assert.equal(await table.exists(p), !allow);
            break;
          case 'mkdir':
            assert.equal(await table.isDir(p), allow);
            break;
          case 'rename':
            assert.equal(await table.exists(p), !allow, `source ${c.path}`);
            assert.equal(await table.exists(rel(c.to)), allow, `target ${c.to}`);
            break;
        }
      }

      for (const proto of PROTOCOLS) {
        for (const c of CASES) {
          test(`${proto}: ${label(c, proto)}`, async () => {
            await table.reset(DIRS, FILES);
            const d = driverFor(proto, cross.env, user, 'perm-pass');
            const r = await run(d, c);
            const allow = allowed(c, proto);
            if (allow) assert.ok(r.ok, `expected success, got ${r.ok ? '' : r.code} ${r.body.slice(0, 300)}`);
            else assert.deepEqual(r.ok ? 'success' : r.code, d.denied, r.body.slice(0, 300));
            await checkStored(c, allow, r);
          });
        }
      }
    });
  }
});
