/**
 * httpd.web_root: the web admin, the web client (shares, OIDC redirect) and
 * /static live under a path prefix, for a reverse proxy that forwards
 * https://host/<prefix>/... as it is. As in SFTPGo the REST API (/api/v2),
 * /healthz, /metrics and /openapi stay where they are.
 *
 * The prefix is applied once, at the edge of each HTTP app: an incoming URL
 * under it loses it before routing (routes keep their /web/... paths), the
 * same web URL without it is not served, and on the way out Location headers
 * and cookie paths gain it. Pages write their own links with the `webRoot`
 * template variable (web/view.ts).
 */
import type { FastifyInstance } from 'fastify';

/** The web paths the prefix covers (the others are the API's). */
function isWebPath(path: string): boolean {
  return path === '/' || path === '/web' || path.startsWith('/web/') || path.startsWith('/static/');
}

/** An unprefixed web URL while web_root is set: routed here, where nothing answers (404). */
const OUTSIDE = '/.outside-web-root';

/**
 * The configured value as a prefix: '' for none ('' or '/'), else "/a/b"
 * without a trailing slash. What SFTPGo would silently ignore (a relative
 * value) or what cannot be a clean URL path is refused, naming the key.
 */
export function normalizeWebRoot(value: string): string {
  const v = value.trim();
  if (v === '' || v === '/') return '';
  if (!v.startsWith('/')) throw new Error(`httpd.web_root: "${value}" must be an absolute URL path such as /sftpgo`);
  const segments = v.split('/').filter((s) => s !== '');
  if (segments.some((s) => s === '.' || s === '..' || !/^[A-Za-z0-9._~!$&'()*+,;=:@%-]+$/.test(s))) {
    throw new Error(`httpd.web_root: "${value}" must be a plain URL path (letters, digits and URL-safe characters, no . or .. segments)`);
  }
  return `/${segments.join('/')}`;
}

/** Fastify's rewriteUrl for this prefix: strips it from web URLs, sends unprefixed web URLs nowhere. */
export function webRootRewriter(root: string): ((url: string) => string) | undefined {
  if (root === '') return undefined;
  return (url: string): string => {
    const q = url.indexOf('?');
    const path = q < 0 ? url : url.slice(0, q);
    if (path === root || path.startsWith(`${root}/`)) {
      const inner = path.slice(root.length) || '/';
      if (isWebPath(inner)) return inner + (q < 0 ? '' : url.slice(q));
      return OUTSIDE + url;
    }
    return isWebPath(path) ? OUTSIDE + url : url;
  };
}

/** Adds the prefix to what a response points at: Location headers and cookie paths of web URLs. */
export function installWebRootReplies(app: FastifyInstance, root: string): void {
  if (root === '') return;
  const prefixed = (target: string): string => (target.startsWith('/') && !target.startsWith('//') && isWebPath(target.split('?')[0]!) ? root + target : target);
  app.addHook('onSend', async (_req, reply, payload) => {
    const location = reply.getHeader('location');
    if (typeof location === 'string') void reply.header('location', prefixed(location));
    const cookies = reply.getHeader('set-cookie');
    if (cookies !== undefined) {
      const list = Array.isArray(cookies) ? cookies.map(String) : [String(cookies)];
      void reply.removeHeader('set-cookie');
      void reply.header('set-cookie', list.map((c) => c.replace(/; Path=([^;]*)/, (_m, p: string) => `; Path=${prefixed(p)}`)));
    }
    return payload;
  });
}
