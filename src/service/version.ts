/**
 * Version information (GET /api/v2/version, `sftpgo --version`): the version
 * from package.json, the commit from SFTPGO_COMMIT or `git rev-parse` in the
 * package directory, the build date from SFTPGO_BUILD_DATE or the compiled
 * file's mtime.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { execFileSync } from 'node:child_process';
import type { VersionInfo } from '../common/context';

function findPackageDir(start: string): string | undefined {
  let dir = start;
  for (let i = 0; i < 6; i++) {
    const p = path.join(dir, 'package.json');
    if (fs.existsSync(p)) {
      try {
        const pkg = JSON.parse(fs.readFileSync(p, 'utf8')) as { name?: string };
        if (pkg.name === 'sftpgo-ts') return dir;
      } catch {
        // not ours: keep walking up
      }
    }
    dir = path.dirname(dir);
  }
  return undefined;
}

function gitCommit(dir: string): string {
  if (!fs.existsSync(path.join(dir, '.git'))) return '';
  try {
    return execFileSync('git', ['rev-parse', '--short', 'HEAD'], { cwd: dir, timeout: 2000, stdio: ['ignore', 'pipe', 'ignore'] })
      .toString().trim();
  } catch {
    return '';
  }
}

export function getVersionInfo(env: Record<string, string | undefined> = process.env): VersionInfo {
  const dir = findPackageDir(__dirname);
  let version = '0.0.0';
  if (dir) {
    const pkg = JSON.parse(fs.readFileSync(path.join(dir, 'package.json'), 'utf8')) as { version?: string };
    version = pkg.version ?? version;
  }
  const commit = env.SFTPGO_COMMIT ?? (dir ? gitCommit(dir) : '');
  let buildDate = env.SFTPGO_BUILD_DATE ?? '';
  if (buildDate === '') {
    try {
      buildDate = fs.statSync(__filename).mtime.toISOString();
    } catch {
      buildDate = '';
    }
  }
  return {
    version,
    commit_hash: commit,
    build_date: buildDate,
    features: ['+metrics', '+sqlite', '+memory', '+portable'],
  };
}

export function versionString(v: VersionInfo): string {
  return `${v.version}-${v.commit_hash || 'unknown'}-${v.build_date || 'unknown'} ${v.features.join(' ')}`;
}
