/**
 * An HTTP reverse proxy on a loopback port that records every request it
 * forwards (method, path, Range) and which responses are still open: tests
 * point a backend at it to count the GETs a download makes against a real
 * emulator (azurite) and to see that a destroyed GET closes its connection.
 * A client that goes away mid-response takes the upstream request with it.
 */
import { createServer, request, Agent, type ServerResponse } from 'node:http';
import { once } from 'node:events';

export interface ForwardedRequest { method: string; path: string; range?: string }

export interface CountingProxy {
  /** http://127.0.0.1:PORT */
  endpoint: string;
  requests: ForwardedRequest[];
  /** responses being relayed to the client right now */
  inFlight: Set<ServerResponse>;
  stop(): Promise<void>;
}

export async function startCountingProxy(target: string): Promise<CountingProxy> {
  const upstream = new URL(target);
  const agent = new Agent({ keepAlive: true });
  const requests: ForwardedRequest[] = [];
  const inFlight = new Set<ServerResponse>();
  const server = createServer((req, res) => {
    requests.push({ method: req.method ?? '', path: req.url ?? '', range: (req.headers['x-ms-range'] ?? req.headers.range) as string | undefined });
    inFlight.add(res);
    res.on('close', () => inFlight.delete(res));
    const out = request({
      host: upstream.hostname, port: upstream.port, method: req.method, path: req.url, headers: req.headers, agent,
    }, (up) => {
      res.writeHead(up.statusCode ?? 502, up.headers);
      up.pipe(res);
    });
    out.on('error', () => res.destroy());
    // the client destroyed its GET: the upstream one goes too
    res.on('close', () => { if (!res.writableFinished) out.destroy(); });
    req.pipe(out);
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return {
    endpoint: `http://127.0.0.1:${(server.address() as { port: number }).port}`,
    requests, inFlight,
    stop: async () => {
      server.closeAllConnections();
      agent.destroy();
      await new Promise<void>((r) => server.close(() => r()));
    },
  };
}
