/**
 * Jail escapes through FTP (basic-ftp), SFTP (ssh2), WebDAV (curl
 * --path-as-is) and the REST user API (the path in the query string) on one server, for a user with every permission (so only the jail stands in the
 * way): `..` raw, percent-encoded and with mixed slashes, absolute paths,
 * symlinks planted in the home (to /etc and to ../outside), rename/move
 * targets outside (and to another host) and virtual folder escapes.
 *
 * After every case: the canaries outside the home keep their content and
 * mtime, no new name appears outside the home, in the folder root or in /etc,
 * and no response ever carried a canary's content.
 *
 * The table runs per storage profile: a local home, a home on S3, on GCS or on
 * HTTPFs (the escape targets are then also a canary object next to the user's
 * key prefix, or a canary file next to the directory the user's HTTPFs service
 * serves, and no name the service receives climbs above its root) and a
 * local home whose /vf folder is on Azure Blob (canary blob next to the
 * folder's prefix). Symlinks are planted only where the storage declares them.
 */
import { after, afterEach, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { lftp, type CrossEnv } from './env';
import { azblobconfig } from '../../support/azurite';
import {
  addStoreHomeUser, azureStore, gcsStore, httpfsStore, isStoreHome, localTable, objectTable, PROFILES, s3Store, startServerAndPeers,
  type ObjectStore, type Peers, type ProfileName, type TableStorage,
} from './profiles';
import { driverFor, PROTOCOLS, type Driver, type Proto, type Result } from './drivers';

const CANARY = 'canary: must never leave the server\n';
const FIXED = new Date('2000-01-01T00:00:00Z');

/**
 * a path per protocol when the spelling differs (WebDAV needs %-escapes for `\` and `/` in a segment);
 * SFTP and the user API (path query parameter), like FTP, take the raw path, so they use the FTP spelling
 */
type P = string | { FTP: string; DAV: string };
/** refused: the operation fails; inside: it succeeds and its result is at `lands` in the home */
type Expect = { refused: true } | { lands: string };
type E = Expect | { FTP: Expect; DAV: Expect };
type Case =
  | { op: 'download' | 'list' | 'removeFile' | 'mkdir' | 'upload'; path: P; expect: E; only?: Proto }
  | { op: 'rename' | 'copy'; path: P; to: P; expect: E; only?: Proto };
const spelled = (x: P, proto: Proto): string => (typeof x === 'string' ? x : x[asRawPath(proto)]);

const R: Expect = { refused: true };
/**
 * FTP cleans `..` against "/" (SFTPGo too); our WebDAV refuses a request URI
 * whose `..` climbs above "/" with 403 instead of cleaning it (safe either
 * way: nothing is reached outside the home), and cleans the ones that stay below.
 */
const aboveRoot = (lands: string): E => ({ FTP: { lands }, DAV: R });
/** SFTP and the user API clean `..` as FTP does (against "/"): they answer like FTP */
const asRawPath = (proto: Proto): 'FTP' | 'DAV' => (proto === 'DAV' ? 'DAV' : 'FTP');
/** a case that goes through one of the links planted in the home */
const throughLink = (c: Case): boolean => /etclink|outlink|uplink/.test(JSON.stringify(c));
const expectOf = (c: Case, proto: Proto): Expect => ('refused' in c.expect || 'lands' in c.expect ? c.expect : c.expect[asRawPath(proto)]);

/**
 * `<outside>` stands for the real directory outside the home (known once the temp dir exists); the home has a
 * decoy `outside/` dir of its own, so a `..` cleaned against the root lands there (a store with implicit
 * directories and a local disk answer alike) while the real one must stay untouched
 */
const CASES: Case[] = [
  { op: 'download', path: '../../outside/canary.txt', expect: R },
  { op: 'download', path: '/../../../outside/canary.txt', expect: R },
  { op: 'download', path: '%2e%2e/%2e%2e/outside/canary.txt', expect: R },
  { op: 'download', path: '/%2e%2e/%2e%2e/%2e%2e/etc/passwd', expect: R },
  { op: 'download', path: { FTP: '..\\..\\outside\\canary.txt', DAV: '..%5c..%5coutside%5ccanary.txt' }, expect: R },
  { op: 'download', path: { FTP: '/sub/..//..\\../outside/canary.txt', DAV: '/sub/..%2f..%2f..%5c../outside/canary.txt' }, expect: R },
  { op: 'download', path: '/..%2f..%2foutside%2fcanary.txt', expect: R },
  { op: 'download', path: '<outside>/canary.txt', expect: R },
  { op: 'download', path: '/etc/passwd', expect: R },
  { op: 'download', path: '/etclink/passwd', expect: R },
  { op: 'download', path: '/outlink/canary.txt', expect: R },
  { op: 'download', path: '/sub/uplink/canary.txt', expect: R },
  { op: 'download', path: '/vf/../vfesc.txt', expect: R },
  { op: 'download', path: '/vf/../../vfesc.txt', expect: R },
  { op: 'download', path: { FTP: '/vf/..\\..\\vfesc.txt', DAV: '/vf/..%2f..%2fvfesc.txt' }, expect: R },
  { op: 'list', path: '/etclink', expect: R },
  { op: 'list', path: '/outlink', expect: R },
  { op: 'list', path: '/sub/uplink', expect: R },
  { op: 'upload', path: '/outlink/xp-new.txt', expect: R },
  { op: 'upload', path: '/etclink/xp-new.txt', expect: R },
  { op: 'upload', path: '/outlink/canary.txt', expect: R },
  { op: 'upload', path: '../../outside/xp-new.txt', expect: aboveRoot('outside/xp-new.txt') },
  { op: 'upload', path: '/vf/../../xp-vf.txt', expect: aboveRoot('xp-vf.txt') },
  { op: 'upload', path: '/vf/../xp-vf.txt', expect: { lands: 'xp-vf.txt' } },
  { op: 'mkdir', path: '/outlink/xp-dir', expect: R },
  { op: 'mkdir', path: '/etclink/xp-dir', expect: R },
  { op: 'mkdir', path: '/../../xp-dir', expect: aboveRoot('xp-dir') },
  { op: 'mkdir', path: '/sub/../../xp-dir', expect: aboveRoot('xp-dir') },
  { op: 'mkdir', path: '/sub/../xp-dir', expect: { lands: 'xp-dir' } },
  { op: 'removeFile', path: '/outlink/canary.txt', expect: R },
  { op: 'removeFile', path: '../../outside/canary.txt', expect: R },
  { op: 'rename', path: '/r.txt', to: '/outlink/xp-stolen.txt', expect: R },
  { op: 'rename', path: '/r.txt', to: '/etclink/xp-stolen.txt', expect: R },
  { op: 'rename', path: '/outlink/canary.txt', to: '/xp-stolen.txt', expect: R },
  { op: 'rename', path: '/sub/f.txt', to: '../../xp-x', expect: { lands: 'xp-x' } },
  // a WebDAV Destination header is cleaned against "/" (as x/net/webdav's path.Clean), like FTP paths
  { op: 'rename', path: '/vf/v.txt', to: '/vf/../../../outside/xp-v.txt', expect: { lands: 'outside/xp-v.txt' } },
  // RFC 4918 §9.9.4: a Destination on another server is 502, never a move on this one
  { op: 'rename', path: '/r.txt', to: 'http://other.example:9/xp-evil.txt', expect: R, only: 'DAV' },
  { op: 'copy', path: '/outlink/canary.txt', to: '/xp-copy.txt', expect: R, only: 'DAV' },
  { op: 'copy', path: '/r.txt', to: '/outlink/xp-copy.txt', expect: R, only: 'DAV' },
  { op: 'copy', path: '/r.txt', to: 'http://other.example:9/xp-copy.txt', expect: R, only: 'DAV' },
];

/** One profile's user: where its home and its /vf folder are stored. */
interface Layout { profile: ProfileName; user: string; home: TableStorage; vf: TableStorage }

const STORE_CANARY = 'outside/canary.txt';
const CANARY_DIR = 'outside/';
/** the names in one HTTPFs request as the service logs it ("METHOD op name?query"): the name and a rename's target */
function serviceNames(request: string): string[] {
  const [name = '', query = ''] = request.split(' ').slice(2).join(' ').split('?');
  const target = new URLSearchParams(query).get('target');
  return target === null ? [name] : [name, target];
}

describe('FTP, SFTP, WebDAV and HTTP: the user cannot leave the jail', () => {
  let env: CrossEnv;
  let peers: Peers;
  let outside: string;
  let baseBefore: string[];
  let homesBefore: string[];
  let stores: { name: string; store: ObjectStore; prefixes: string[] }[];
  const layouts = new Map<ProfileName, Layout>();
  const bodies: string[] = [];
  const guarded = (): string[] => [path.join(outside, 'canary.txt'), path.join(env.base, 'vfesc.txt')];

  /** the user of a profile: the home on a store (s3-home, gcs-home, httpfs-home) or local, /vf on Azure (azure-folder) or local */
  async function addLayout(profile: ProfileName): Promise<Layout> {
    const user = `jail-${profile}`;
    const localVf = path.join(env.base, `vfroot-${profile}`);
    const osFeatures = env.ctx.filesystems({ owner: user, localRoot: env.base, filesystem: { provider: 0 } }).features;
    const json = { username: user, password: 'jail-pass' };
    if (profile === 'azure-folder') {
      const folder = `${user}-vf`;
      const filesystem = { provider: 3, azblobconfig: azblobconfig(peers.az, { key_prefix: `${user}/vf/` }) };
      await env.ctx.provider.addFolder({ name: folder, filesystem });
      const homeDir = await env.addUser({ ...json, virtual_folders: [{ name: folder, virtual_path: '/vf', quota_size: -1, quota_files: -1 }] });
      const vf = objectTable(profile, '/vf', homeDir, env.ctx.filesystems({ owner: folder, localRoot: '', filesystem }), azureStore(peers.az, `${user}/vf/`));
      return { profile, user, home: localTable(homeDir, osFeatures), vf };
    }
    fs.mkdirSync(localVf, { recursive: true });
    const virtual_folders = [{ name: `${user}-vf`, mapped_path: localVf, virtual_path: '/vf', quota_size: -1, quota_files: -1 }];
    const vf = localTable(localVf, osFeatures);
    if (profile === 'local') return { profile, user, home: localTable(await env.addUser({ ...json, virtual_folders }), osFeatures), vf };
    return { profile, user, home: await addStoreHomeUser(env, peers, profile, { ...json, virtual_folders }), vf };
  }

  async function rebuild(l: Layout): Promise<void> {
    await l.home.reset(['sub', 'outside'], { 'r.txt': 'rename me\n', 'sub/f.txt': 'sub file\n' });
    // planted by the test, not by the user: one absolute link to /etc, relative links to ../outside; a storage that
    // declares no symlinks cannot hold them (the capability table checks the protocols' unsupported answer)
    if (l.home.features.symlinks) {
      const h = (p: string): string => path.join(l.home.home, p);
      fs.symlinkSync('/etc', h('etclink'));
      fs.symlinkSync('../outside', h('outlink'));
      fs.symlinkSync('../../outside', h('sub/uplink'));
    }
    await l.vf.reset([], { 'v.txt': 'in the folder\n' });
  }

  before(async () => {
    ({ env, peers } = await startServerAndPeers());
    outside = path.join(env.base, 'homes', 'outside');
    fs.mkdirSync(outside, { recursive: true });
    for (const f of [path.join(outside, 'canary.txt'), path.join(env.base, 'vfesc.txt')]) {
      fs.writeFileSync(f, CANARY);
      fs.utimesSync(f, FIXED, FIXED);
    }
    // a canary object next to the users' prefixes in the buckets and in the container, a canary file next to the HTTPFs root
    stores = [
      { name: 'S3 bucket', store: s3Store(peers.s3, ''), prefixes: ['jail-s3-home/'] },
      { name: 'GCS bucket', store: gcsStore(peers.gcs, ''), prefixes: ['jail-gcs-home/'] },
      { name: 'HTTPFs parent dir', store: httpfsStore(peers.httpfs.dir, ''), prefixes: ['jail-httpfs-home/'] },
      { name: 'container', store: azureStore(peers.az, ''), prefixes: ['jail-azure-folder/'] },
    ];
    for (const s of stores) await s.store.put(STORE_CANARY, CANARY);
    for (const profile of PROFILES) {
      const l = await addLayout(profile);
      layouts.set(profile, l);
      await rebuild(l);
    }
    baseBefore = fs.readdirSync(env.base).sort();
    homesBefore = fs.readdirSync(path.join(env.base, 'homes')).sort();
  });

  afterEach(async () => {
    for (const f of guarded()) {
      assert.equal(fs.readFileSync(f, 'utf8'), CANARY, `${f} content changed`);
      assert.equal(fs.statSync(f).mtime.getTime(), FIXED.getTime(), `${f} was written`);
    }
    assert.deepEqual(fs.readdirSync(outside), ['canary.txt'], 'nothing new outside the home');
    assert.deepEqual(fs.readdirSync(env.base).sort(), baseBefore, 'nothing new in the parent of the homes');
    assert.deepEqual(fs.readdirSync(path.join(env.base, 'homes')).sort(), homesBefore, 'nothing new next to the homes');
    for (const l of layouts.values()) {
      if (isStoreHome(l.profile)) assert.deepEqual(fs.readdirSync(l.home.home), [], `nothing written in the local dir of the ${l.profile} home`);
    }
    assert.deepEqual(fs.readdirSync('/etc').filter((n) => n.startsWith('xp-')), [], 'nothing written in /etc');
    for (const s of stores) {
      assert.equal(await s.store.get(STORE_CANARY), CANARY, `the ${s.name}'s canary changed`);
      // a directory store (HTTPFs) lists the canary's directory too
      const stray = (await s.store.allKeys()).filter((k) => k !== STORE_CANARY && k !== CANARY_DIR && !s.prefixes.some((p) => k.startsWith(p)));
      assert.deepEqual(stray, [], `nothing new in the ${s.name} outside the user's prefix`);
    }
    const climbing = peers.httpfs.requests().filter((r) => serviceNames(r).some((n) => n.split('/').includes('..')));
    assert.deepEqual(climbing, [], 'a name sent to the HTTPFs service climbs with ..');
    for (const b of bodies.splice(0)) assert.ok(!b.includes('canary: must never'), `a response carried the canary: ${b.slice(0, 200)}`);
  });
  after(async () => {
    for (const l of layouts.values()) { await l.home.close(); await l.vf.close(); }
    await env?.close();
    await peers?.stop();
  });

  async function run(d: Driver, c: Case): Promise<Result> {
    const p = (x: P): string => spelled(x, d.name).replace('<outside>', outside);
    switch (c.op) {
      case 'download': return d.download(p(c.path));
      case 'list': return d.list(p(c.path));
      case 'upload': return d.upload(p(c.path), Buffer.from('attempt\n'));
      case 'removeFile': return d.removeFile(p(c.path));
      case 'mkdir': return d.mkdir(p(c.path));
      case 'rename': return d.rename(p(c.path), p(c.to));
      case 'copy': {
        assert.ok(d.copy, `${d.name} has no copy`);
        return d.copy(p(c.path), p(c.to));
      }
    }
  }

  for (const profile of PROFILES) {
    describe(`profile ${profile}`, () => {
      const layout = (): Layout => layouts.get(profile)!;
      const driver = (proto: Proto): Driver => driverFor(proto, env, layout().user, 'jail-pass');

      for (const proto of PROTOCOLS) {
        for (const c of CASES) {
          if (c.only && c.only !== proto) continue;
          const to = 'to' in c ? ` → ${spelled(c.to, proto)}` : '';
          const shown = `${c.op} ${spelled(c.path, proto)}${to}`;
          const expect = expectOf(c, proto);
          test(`${proto}: ${shown} ${'refused' in expect ? 'is refused' : `lands at /${expect.lands}`}`, async (t) => {
            const l = layout();
            if (throughLink(c) && !l.home.features.symlinks) {
              t.skip('the home\'s storage declares no symlinks: no link can be there (creating one is unsupported, see capabilities)');
              return;
            }
            await rebuild(l);
            const r = await run(driver(proto), c);
            bodies.push(r.body);
            if ('refused' in expect) {
              assert.equal(r.ok, false, `${shown} succeeded: ${r.body.slice(0, 300)}`);
            } else {
              assert.ok(r.ok, `${shown} failed: ${r.ok ? '' : r.code} ${r.body.slice(0, 300)}`);
              assert.ok(await l.home.exists(expect.lands), `${expect.lands} not in the home`);
            }
            if (c.op === 'list') assert.doesNotMatch(r.body, /passwd|canary\.txt|hostname/, 'the listing showed the target');
            if (c.op === 'rename' && 'refused' in expect && c.path === '/r.txt') assert.ok(await l.home.exists('r.txt'), 'source kept');
          });
        }
      }

      for (const proto of PROTOCOLS) {
        test(`${proto}: the virtual folder itself works (sanity: the refusals above are the jail, not a broken setup)`, async () => {
          const l = layout();
          await rebuild(l);
          const d = driver(proto);
          const got = await d.download('/vf/v.txt');
          assert.ok(got.ok);
          assert.equal(got.body, 'in the folder\n');
          assert.ok((await d.download('/sub/f.txt')).ok);
          assert.ok((await d.upload('/vf/xp-in-folder.txt', Buffer.from('ok'))).ok);
          assert.equal(await l.vf.read('xp-in-folder.txt'), 'ok');
        });
      }
      test('lftp: cd, get, put, mv and mirror through the links and above the root stay in the jail', async () => {
        const l = layout();
        await rebuild(l);
        const local = path.join(env.base, 'local');
        fs.mkdirSync(local, { recursive: true });
        fs.writeFileSync(path.join(local, 'xp-up.txt'), 'attempt\n');
        try {
          const up = await lftp(env.ftpPort, l.user, 'jail-pass', ['cd ../../..', 'pwd', 'cd /vf', 'cd ../..', 'pwd', 'cls -1 /'], local);
          assert.equal(up.code, 0, up.stderr);
          assert.deepEqual(up.stdout.split('\n').filter((x) => x.startsWith('ftp://')).map((x) => new URL(x).pathname), ['/', '/']);
          assert.doesNotMatch(up.stdout, /canary|homes|vfroot/, 'the listing is the home');
          // through the planted links only where the storage can hold links
          const refused: string[][] = [['get ../../outside/canary.txt -o xp-got'], ...(l.home.features.symlinks ? [
            ['cd /etclink'], ['cd /outlink'], ['cd sub/uplink'], ['get /etclink/passwd -o xp-got'], ['get outlink/canary.txt -o xp-got'],
            ['put xp-up.txt -o /outlink/xp-up.txt'], ['put xp-up.txt -o etclink/xp-up.txt'],
            ['mv r.txt outlink/xp-stolen.txt'], ['mv outlink/canary.txt xp-stolen.txt'], ['rm outlink/canary.txt'],
            ['mirror outlink xp-mirror'], ['mkdir etclink/xp-dir'],
          ] : [])];
          for (const script of refused) {
            const r = await lftp(env.ftpPort, l.user, 'jail-pass', script, local);
            assert.notEqual(r.code, 0, `${script.join('; ')} succeeded: ${r.stdout}`);
            bodies.push(r.stdout, r.stderr);
          }
          assert.equal(fs.existsSync(path.join(local, 'xp-got')), false, 'nothing downloaded');
          const mirrored = path.join(local, 'xp-mirror');
          assert.deepEqual(fs.existsSync(mirrored) ? fs.readdirSync(mirrored) : [], [], 'mirror brought nothing');
          assert.equal(await l.home.read('r.txt'), 'rename me\n');
        } finally {
          fs.rmSync(local, { recursive: true, force: true });
        }
      });
    });
  }

  test('no transfer or file operation was logged on a path outside a home or a folder', async () => {
    const lines = await env.logLines();
    const ops = lines.filter((x) => typeof x['file_path'] === 'string');
    assert.ok(ops.length > 10, 'the cases above were logged');
    /**
     * a line is checked against its user's home and folder; HTTPFs logs the service's names (any clean absolute
     * name is one), so a line naming no user is checked against the other layouts only
     */
    const candidates = (user: unknown): Layout[] => {
      const own = [...layouts.values()].filter((l) => l.user === user);
      return own.length > 0 ? own : [...layouts.values()].filter((l) => l.profile !== 'httpfs-home');
    };
    const inside = (p: string, user: unknown): boolean => candidates(user).some((l) => l.home.holds(p) || l.vf.holds(p));
    for (const x of ops) {
      const p = String(x['file_path']);
      assert.ok(inside(p, x['username']), `${String(x['sender'])} on ${p}`);
      const target = String(x['target_path'] ?? '');
      if (target) assert.ok(inside(target, x['username']), `${String(x['sender'])} to ${target}`);
    }
    for (const l of layouts.values()) {
      assert.ok(ops.some((x) => x['username'] === l.user && l.home.holds(String(x['file_path']))), `operations logged for ${l.profile}`);
    }
  });
});
