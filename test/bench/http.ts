/**
 * HTTP rows: a file up and down through the user REST API
 * (`POST /api/v2/user/files/upload`, raw body; `GET /api/v2/user/files`) with
 * curl, beside rclone on the same files: `rclone serve http` for downloads
 * (it is read-only) and `rclone serve webdav` for uploads (PUT, the same
 * one-request streamed body). Each side's user token is fetched before the
 * timed curl run, as a script would keep one for its transfers.
 */
import type { Endpoint } from './servers';
import { compareTransfers, type Row, type Tool } from './rows';
import { timed } from './util';

async function userToken(ep: Endpoint): Promise<string> {
  const basic = Buffer.from(`${ep.user}:${ep.password}`).toString('base64');
  const url = `http://127.0.0.1:${ep.port}/api/v2/user/token`;
  // fetch reuses a kept-alive socket the server may be closing at that moment: one retry on a fresh one
  const r = await fetch(url, { headers: { authorization: `Basic ${basic}` } })
    .catch(() => fetch(url, { headers: { authorization: `Basic ${basic}` } }));
  if (r.status !== 200) throw new Error(`user token: ${r.status} ${await r.text()}`);
  return ((await r.json()) as { access_token: string }).access_token;
}

/**
 * curl against our user API (`ours`, by name) or rclone (any other endpoint:
 * `ep.port` is its WebDAV port, `refHttpPort` its `serve http` port on the same directory).
 */
export function curlHttpTool(oursName: string, refHttpPort: number): Tool {
  const q = encodeURIComponent;
  const common = ['-sS', '-f', '-H', 'Expect:'];
  return {
    async up(ep, src, name) {
      if (ep.name !== oursName) return timed('curl', [...common, '-u', `${ep.user}:${ep.password}`, '-T', src, `http://127.0.0.1:${ep.port}/${name}`]);
      const token = await userToken(ep);
      return timed('curl', [...common, '-o', '/dev/null', '-X', 'POST', '-H', `Authorization: Bearer ${token}`, '-H', 'Content-Type: application/octet-stream',
        '-T', src, `http://127.0.0.1:${ep.port}/api/v2/user/files/upload?path=${q(name)}`]);
    },
    async down(ep, name) {
      if (ep.name !== oursName) return timed('curl', [...common, '-u', `${ep.user}:${ep.password}`, '-o', '/dev/null', `http://127.0.0.1:${refHttpPort}/${name}`]);
      const token = await userToken(ep);
      return timed('curl', [...common, '-o', '/dev/null', '-H', `Authorization: Bearer ${token}`, `http://127.0.0.1:${ep.port}/api/v2/user/files?path=${q(name)}`]);
    },
  };
}

export async function httpRows(opts: { ours: Endpoint; rcloneDav: Endpoint; rcloneHttpPort: number; src: string; sizeMiB: number; rounds: number; dir: string }): Promise<Row[]> {
  return compareTransfers({
    label: 'HTTP user API vs rclone serve http/webdav (curl)', tool: curlHttpTool(opts.ours.name, opts.rcloneHttpPort),
    ours: opts.ours, ref: opts.rcloneDav, src: opts.src, sizeMiB: opts.sizeMiB, rounds: opts.rounds, dir: opts.dir, min: 1.0,
  });
}
