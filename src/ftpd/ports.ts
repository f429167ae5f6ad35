/**
 * Passive listeners inside `passive_port_range`. One allocator per service
 * (not a module singleton); it rotates through the range and skips ports in
 * use, bounded by the range size. Range 0-0 means "any free port".
 */
import type * as net from 'node:net';

export class PassivePorts {
  private next: number;
  constructor(private readonly start: number, private readonly end: number) {
    this.next = start;
  }

  /** Starts `server` listening on `host` on a free port of the range; resolves the port. */
  async listen(server: net.Server, host: string): Promise<number> {
    if (this.start <= 0 || this.end < this.start) return listenOn(server, 0, host);
    const size = this.end - this.start + 1;
    let lastErr: unknown;
    for (let i = 0; i < size; i++) {
      const port = this.next;
      this.next = port >= this.end ? this.start : port + 1;
      try {
        return await listenOn(server, port, host);
      } catch (e) {
        lastErr = e;
        const code = (e as NodeJS.ErrnoException).code;
        if (code !== 'EADDRINUSE' && code !== 'EACCES') throw e;
      }
    }
    throw lastErr instanceof Error ? lastErr : new Error('no free passive port');
  }
}

function listenOn(server: net.Server, port: number, host: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const onError = (e: Error): void => { server.removeListener('listening', onListening); reject(e); };
    const onListening = (): void => {
      server.removeListener('error', onError);
      const a = server.address();
      resolve(typeof a === 'object' && a ? a.port : port);
    };
    server.once('error', onError);
    server.once('listening', onListening);
    server.listen({ port, host, exclusive: true });
  });
}
