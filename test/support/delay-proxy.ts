/**
 * A TCP relay that holds every chunk for a fixed time in each direction: a
 * long link on loopback (the kernel here has no netem), for what depends on
 * the round trip rather than on bandwidth (SSH windows, pacing).
 */
import { connect, createServer, type Server, type Socket } from 'node:net';

export interface DelayProxy {
  port: number;
  close(): Promise<void>;
}

/** Relays 127.0.0.1:<port> to 127.0.0.1:`targetPort`, each chunk `delayMs` late in either direction. */
export async function startDelayProxy(targetPort: number, delayMs: number): Promise<DelayProxy> {
  const sockets = new Set<Socket>();
  // timers of one duration fire in the order they were set: the byte order holds
  const relay = (from: Socket, to: Socket): void => {
    from.on('data', (chunk: Buffer) => { setTimeout(() => { if (!to.destroyed) to.write(chunk); }, delayMs); });
    from.on('end', () => { setTimeout(() => to.end(), delayMs); });
  };
  const server: Server = createServer((client) => {
    const upstream = connect({ host: '127.0.0.1', port: targetPort });
    for (const s of [client, upstream]) {
      sockets.add(s);
      s.on('close', () => sockets.delete(s));
      s.on('error', () => { client.destroy(); upstream.destroy(); });
    }
    relay(client, upstream);
    relay(upstream, client);
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const addr = server.address();
  const port = typeof addr === 'object' && addr ? addr.port : 0;
  return {
    port,
    close: async () => {
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
