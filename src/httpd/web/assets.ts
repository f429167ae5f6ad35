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

const TYPES: Record<string, string> = {
  '.css': 'text/css; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.woff2': 'font/woff2',
  '.txt': 'text/plain; charset=utf-8',
};

/** GET /static/* from one directory: known types only, no dot files, nothing outside the root. */
export function registerStatic(app: FastifyInstance, root: string): void {
  const base = resolve(root);
  app.get<{ Params: { '*': string } }>('/static/*', { config: { auth: 'none' } }, async (req, reply) => {
    const rel = req.params['*'] ?? '';
    const type = TYPES[extname(rel).toLowerCase()];
    const parts = rel.split('/');
    const bad = rel === '' || rel.includes('\\') || rel.includes('\0') || parts.some((p) => p === '' || p.startsWith('.'));
    const file = resolve(base, ...parts);
    if (bad || !type || !file.startsWith(base + sep)) return reply.code(404).type('text/plain').send('not found');
    let data: Buffer;
    try {
      data = await readFile(file);
    } catch {
      return reply.code(404).type('text/plain').send('not found');
    }
    return reply.type(type).header('cache-control', 'public, max-age=3600').send(data);
  });
}
