/**
 * An HTTP reverse proxy on a free loopback port that records each request's
 * method, path and headers and forwards it unchanged (Host included, so a
 * SigV4 signature still verifies upstream) to one target, streaming both
 * bodies. Lets a test see what a client sent to a server that does not tell
 * (e.g. the x-amz-security-token s3rver ignores).
 */
import { once } from 'node:events';
import { createServer, request, type IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface RecordedRequest { method: string; path: string; headers: IncomingHttpHeaders }

export interface RecordingProxy {
  endpoint: string;
  requests: RecordedRequest[];
  stop(): Promise<void>;
}

export async function startRecordingProxy(target: string): Promise<RecordingProxy> {
  const upstream = new URL(target);
  const requests: RecordedRequest[] = [];
  const server = createServer((req, res) => {
    requests.push({ method: req.method ?? '', path: req.url ?? '', headers: { ...req.headers } });
    const out = request({
      host: upstream.hostname, port: upstream.port, method: req.method, path: req.url, headers: req.headers,
    }, (up) => {
      res.writeHead(up.statusCode ?? 502, up.headers);
      up.pipe(res);
    });
    out.on('error', () => res.destroy());
    req.pipe(out);
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return {
    endpoint: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    requests,
    stop: async () => { server.closeAllConnections(); server.close(); await once(server, 'close'); },
  };
}
