/**
 * How a ranged GET's body reaches the window buffers of a streamed run
 * (streamed-run.ts): the run is a sink that lends the free room of its head
 * window, and the body source writes there. A source that reads sockets
 * itself (s3/direct-get.ts) has the kernel copy straight into that room; a
 * Node stream (https, the SDK) is copied from its chunks by
 * `streamRunBody`. Either way the body flows only while a window has room
 * (backpressure): a client that stops reading parks the connection instead
 * of buffering the object.
 */
import type { Readable } from 'node:stream';

/** The queued windows of a run, seen from the body. */
export interface RunSink {
  /** the free room of the head window (a view of its buffer), undefined while no window waits */
  room(): Buffer | undefined;
  /** n bytes were written at the start of the view the last room() gave */
  wrote(n: number): void;
  /** the body ended: every byte of the range came (or the server sent fewer: the run sees its windows short) */
  ended(): void;
  /** the body failed mid-way or its connection closed early */
  failed(e: unknown): void;
}

/** A body flowing into a sink. */
export interface RunBody {
  /** a window was queued: flow again if the body waited for room */
  resume(): void;
  /** stops the body and drops its connection; the sink hears nothing more */
  destroy(): void;
}

/** opens the object's bytes [start, end] (inclusive) as one body flowing into sink */
export type OpenRun = (start: number, end: number, sink: RunSink, signal: AbortSignal) => Promise<RunBody>;

/** Copies as much of chunk as the sink has room for; returns the bytes taken. */
export function copyIntoSink(sink: RunSink, chunk: Buffer): number {
  let off = 0;
  // bounded: each round fills a window's room or uses up the chunk
  while (off < chunk.length) {
    const room = sink.room();
    if (!room || room.length === 0) break;
    const n = chunk.copy(room, 0, off, Math.min(chunk.length, off + room.length));
    off += n;
    sink.wrote(n);
  }
  return off;
}

/**
 * A Node stream as a run body: 'data' events (no promise per chunk) copied
 * into the sink; what finds no room waits in `spare` with the stream paused.
 */
export function streamRunBody(body: Readable, sink: RunSink): RunBody {
  const spare: Buffer[] = [];
  let bodyDone = false;
  let over = false;
  const finish = (): void => { over = true; sink.ended(); };
  const fail = (e: unknown): void => {
    if (over) return;
    over = true;
    body.destroy();
    sink.failed(e);
  };
  body.on('data', (chunk: Buffer) => {
    if (over) return;
    const n = copyIntoSink(sink, chunk);
    if (n < chunk.length) {
      spare.push(n === 0 ? chunk : chunk.subarray(n));
      body.pause();
    }
  });
  body.on('end', () => {
    bodyDone = true;
    // the last chunks may still wait in `spare` for windows to come
    if (spare.length === 0 && !over) finish();
  });
  body.on('error', (e) => fail(e));
  body.on('close', () => { if (!body.readableEnded) fail(new Error('the body closed before its end')); });
  return {
    resume(): void {
      if (over) return;
      // bounded: each round empties one spare chunk or runs out of room
      while (spare.length > 0) {
        const head = spare[0];
        const n = copyIntoSink(sink, head);
        if (n < head.length) { spare[0] = head.subarray(n); return; }
        spare.shift();
      }
      if (bodyDone) finish(); else body.resume();
    },
    destroy(): void {
      over = true;
      spare.length = 0;
      body.destroy();
    },
  };
}

/** opens the object's bytes [start, end] (inclusive) as one Node stream */
export type OpenStream = (start: number, end: number, signal: AbortSignal) => Promise<Readable>;

/** The run opener of a backend whose ranged GET gives a Node stream. */
export function runFromStreams(open: OpenStream): OpenRun {
  return async (start, end, sink, signal) => streamRunBody(await open(start, end, signal), sink);
}
