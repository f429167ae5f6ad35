/**
 * git over SSH (git-receive-pack, git-upload-pack, git-upload-archive) on a
 * repository inside the user's root. The repository is untrusted: the user can
 * write any file in it through SFTP. So it is located the way git's enter_repo
 * would (path/.git, path, path.git/.git, path.git), then refused when it
 * borrows objects from elsewhere (alternates, commondir, a gitdir file), holds
 * a symlink whose target leaves the root, or carries config keys that make git
 * run programs or read other files (filters, includes, fsmonitor ...). git then
 * runs on the exact directory with hooks off and no system/global config.
 */
import { spawn } from 'node:child_process';
import { promises as fsp } from 'node:fs';
import path from 'node:path';
import { isWithin } from '../common/system-command';

export const GIT_COMMANDS = ['git-receive-pack', 'git-upload-pack', 'git-upload-archive'] as const;

/** Repository config keys git may read; anything else refuses the repository. */
const SAFE_CONFIG = [
  /^core\.(repositoryformatversion|filemode|bare|logallrefupdates|ignorecase|precomposeunicode|symlinks|compression|bigfilethreshold|sharedrepository)$/,
  /^(remote|branch|receive|gc|pack|transfer|uploadpack|fetch|user|init|advice|extensions|index|protocol)\./,
];
/** Keys under those sections that still name a program or a path. */
const UNSAFE_CONFIG = [
  /^uploadpack\.packobjectshook$/, /^receive\.procreceiverefs$/, /^remote\..*\.(proxy|uploadpack|receivepack|vcs)$/,
  // a skip list is a file read from anywhere; partial clones fetch lazily; worktree config is a second, unchecked file
  /skiplist$/, /^extensions\.(partialclone|worktreeconfig)$/,
];
const MAX_SCAN_ENTRIES = 200_000;

export interface GitInvocation {
  args: string[];
  /** the repository directory git will open (real path) */
  repo: string;
}

/** Candidate repository dirs in git's enter_repo order. */
function candidates(fsPath: string): string[] {
  return [path.join(fsPath, '.git'), fsPath, path.join(`${fsPath}.git`, '.git'), `${fsPath}.git`];
}

async function isGitDir(dir: string): Promise<boolean> {
  const st = await fsp.lstat(dir).catch(() => undefined);
  if (!st?.isDirectory()) return false;
  const head = await fsp.lstat(path.join(dir, 'HEAD')).catch(() => undefined);
  const objects = await fsp.lstat(path.join(dir, 'objects')).catch(() => undefined);
  return head !== undefined && objects !== undefined;
}

/** Every symlink under `dir` must resolve inside `root`; bounded walk, no following. */
async function checkSymlinks(dir: string, root: string): Promise<void> {
  const stack = [dir];
  let seen = 0;
  while (stack.length > 0) {
    const cur = stack.pop()!;
    for (const e of await fsp.readdir(cur, { withFileTypes: true })) {
      if (++seen > MAX_SCAN_ENTRIES) throw new Error('repository too large to be checked');
      const full = path.join(cur, e.name);
      if (e.isDirectory()) stack.push(full);
      else if (e.isSymbolicLink()) {
        const real = await fsp.realpath(full).catch(() => undefined);
        if (real === undefined || !isWithin(real, root)) throw new Error('repository has a symlink leading outside the home directory');
      }
    }
  }
}

function run(args: string[], env: NodeJS.ProcessEnv, cwd: string): Promise<{ code: number; out: string }> {
  return new Promise((resolve) => {
    const child = spawn('git', args, { env, cwd, stdio: ['ignore', 'pipe', 'ignore'] });
    let out = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => { if (out.length < 1_000_000) out += d; });
    child.on('error', () => resolve({ code: -1, out }));
    child.on('close', (code) => resolve({ code: code ?? -1, out }));
  });
}

async function checkConfig(repo: string, env: NodeJS.ProcessEnv): Promise<void> {
  const cfg = path.join(repo, 'config');
  if (!(await fsp.lstat(cfg).then((s) => s.isFile(), () => false))) return;
  // --no-includes: an include would itself read a file from anywhere
  const r = await run(['config', '--file', cfg, '--no-includes', '--name-only', '--list'], env, repo);
  if (r.code !== 0) throw new Error('repository config is not readable');
  for (const key of r.out.split('\n').filter((k) => k !== '').map((k) => k.toLowerCase())) {
    const safe = SAFE_CONFIG.some((re) => re.test(key)) && !UNSAFE_CONFIG.some((re) => re.test(key));
    if (!safe) throw new Error(`repository config key ${JSON.stringify(key)} is not allowed`);
  }
}

/**
 * Locates and vets the repository for `fsPath` (already inside `root`); returns
 * the git arguments. Throws with a message for the client when refused.
 */
export async function prepareGit(name: string, clientArgs: readonly string[], fsPath: string, root: string, env: NodeJS.ProcessEnv): Promise<GitInvocation> {
  if (clientArgs.length !== 1 || clientArgs[0]!.startsWith('-')) throw new Error(`usage: ${name} <repository>`);
  let repo: string | undefined;
  for (const c of candidates(fsPath)) {
    if (await isGitDir(c)) { repo = c; break; }
  }
  if (repo === undefined) {
    // a `.git` file ("gitdir: elsewhere") would be followed by git: refused like a missing repository
    throw new Error(`${clientArgs[0]}: not a git repository`);
  }
  const real = await fsp.realpath(repo);
  if (!isWithin(real, root)) throw new Error('repository leads outside the home directory');
  for (const f of ['objects/info/alternates', 'objects/info/http-alternates', 'commondir', 'gitdir', '.git']) {
    if (await fsp.lstat(path.join(real, f)).then(() => true, () => false)) throw new Error(`repository with ${f} is not allowed`);
  }
  await checkSymlinks(real, root);
  await checkConfig(real, env);
  const sub = name.slice('git-'.length);
  // hooks off (a pushed or uploaded hook would run as the server); no protocol helper can be reached
  const base = ['-c', 'core.hooksPath=/dev/null', '-c', 'protocol.allow=never', '-c', 'core.fsmonitor=false', sub];
  return { args: sub === 'upload-pack' ? [...base, '--strict', real] : [...base, real], repo: real };
}

/**
 * Environment built from nothing: never the daemon's. The one client value
 * let in is GIT_PROTOCOL (git's client sends it with SSH's env request to ask
 * for protocol v2), and only in the form git itself produces.
 */
export function gitEnvironment(home: string, gitProtocol?: string): NodeJS.ProcessEnv {
  return {
    PATH: '/usr/local/bin:/usr/bin:/bin', HOME: home, LANG: 'C', LC_ALL: 'C',
    GIT_CONFIG_NOSYSTEM: '1', GIT_CONFIG_GLOBAL: '/dev/null', GIT_ATTR_NOSYSTEM: '1', GIT_TERMINAL_PROMPT: '0',
    GIT_NO_REPLACE_OBJECTS: '1', GIT_NO_LAZY_FETCH: '1',
    ...(gitProtocol !== undefined && isGitProtocolValue(gitProtocol) ? { GIT_PROTOCOL: gitProtocol } : {}),
  };
}

/**
 * GIT_PROTOCOL as git writes it: colon-separated `key=value` parameters
 * (`version=2`), short, without characters a program could read as anything
 * else; other values are dropped (git then speaks protocol v0).
 */
export function isGitProtocolValue(v: string): boolean {
  return v.length <= 256 && /^version=[0-9]+(:[a-z][a-z0-9-]*=[A-Za-z0-9._-]+)*$|^([a-z][a-z0-9-]*=[A-Za-z0-9._-]+:)+version=[0-9]+(:[a-z][a-z0-9-]*=[A-Za-z0-9._-]+)*$/.test(v);
}
