/**
 * Where templates and static files come from, and the /static/ handler.
 * Paths are relative to the config dir (SFTPGo); when the directory is not
 * there (npm start uses ./data as config dir) the package's own copies are used.
 */
import { existsSync, statSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { extname, isAbsolute, join, resolve, sep } from 'node:path';
import type { FastifyInstance } from 'fastify';
import type { ServerContext } from '../../common/context';

/** dist/src/httpd/web → repo root (also right for src/httpd/web when run from sources) */
const PACKAGE_ROOT = join(__dirname, '..', '..', '..', '..');

function packageDir(name: 'templates' | 'static'): string {
  const compiled = join(PACKAGE_ROOT, name);
  // running from src/ (ts-node style) the root is one level less deep
  return existsSync(compiled) ? compiled : join(__dirname, '..', '..', '..', name);
}

function isDir(p: string): boolean {
  try {
    return statSync(p).isDirectory();
  } catch {
    return false;
  }
}

export function resolveAssetDir(ctx: ServerContext, configured: string, fallback: 'templates' | 'static', marker: string): string {
  const value = configured || fallback;
  const p = isAbsolute(value) ? value : resolve(ctx.runtime.configDir || '.', value);
  // a directory that exists but is not ours (e.g. an SFTPGo theme) would fail to render: require our marker file
  if (isDir(p) && existsSync(join(p, marker))) return p;
  return packageDir(fallback);
}

/**
 * Where /static/* is read from: the configured static_files_path when it is a
 * directory (branding files, or a full copy of ours), then the package's own.
 */
export function staticRoots(ctx: ServerContext): string[] {
  const configured = ctx.config.httpd.static_files_path || 'static';
  const p = isAbsolute(configured) ? configured : resolve(ctx.runtime.configDir || '.', configured);
  const own = resolve(packageDir('static'));
  return isDir(p) && resolve(p) !== own ? [resolve(p), own] : [own];
}

const TYPES: Record<string, string> = {
  '.css': 'text/css; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.jpg': 'image/jpeg',
  '.jpeg': 'image/jpeg',
  '.gif': 'image/gif',
  '.webp': 'image/webp',
  '.ico': 'image/x-icon',
  '.woff2': 'font/woff2',
  '.txt': 'text/plain; charset=utf-8',
  '.html': 'text/html; charset=utf-8',
};

/** The file a /static/ path names under `base`, or undefined (unknown type, dot files, outside the root). */
function staticFile(base: string, rel: string): { file: string; type: string } | undefined {
  const type = TYPES[extname(rel).toLowerCase()];
  const parts = rel.split('/');
  const bad = rel === '' || rel.includes('\\') || rel.includes('\0') || parts.some((p) => p === '' || p.startsWith('.'));
  const file = resolve(base, ...parts);
  if (bad || !type || !file.startsWith(base + sep)) return undefined;
  return { file, type };
}

/** True when `/static<rel>` would be served from one of the roots (start-up checks of branding paths). */
export function staticFileExists(roots: string[], rel: string): boolean {
  return roots.some((r) => {
    const f = staticFile(resolve(r), rel.replace(/^\/+/, ''));
    return f !== undefined && existsSync(f.file) && statSync(f.file).isFile();
  });
}

/** GET /static/* from the first root holding the file: known types only, no dot files, nothing outside a root. */
export function registerStatic(app: FastifyInstance, root: string | string[]): void {
  const bases = (Array.isArray(root) ? root : [root]).map((r) => resolve(r));
  app.get<{ Params: { '*': string } }>('/static/*', { config: { auth: 'none' } }, async (req, reply) => {
    const rel = req.params['*'] ?? '';
    for (const base of bases) {
      const f = staticFile(base, rel);
      if (!f) break;
      let data: Buffer;
      try {
        data = await readFile(f.file);
      } catch {
        continue;
      }
      return reply.type(f.type).header('cache-control', 'public, max-age=3600').send(data);
    }
    return reply.code(404).type('text/plain').send('not found');
  });
}
