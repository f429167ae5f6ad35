/**
 * V8 flags the daemon is meant to run with. They must be on node's command
 * line (V8 sizes its heap when the process starts), so they are repeated in
 * main.ts's shebang, package.json's start script and docker/Dockerfile; the
 * tests and the bench start the server with this list.
 *
 * --max-semi-space-size=4 (MiB, default 16): every transfer churns Buffers
 * (socket reads, SSH packets, SFTP DATA replies). With the default young
 * generation, once new space has grown to its maximum V8 starts a full
 * mark-compact whenever the old generation's headroom is smaller than new
 * space, which, with a ~20 MB heap, was almost always: a 512 MiB SFTP
 * transfer then ran one mark-compact every ~100 ms and took 2-3x the CPU
 * (`--trace-gc`: 58-69 mark-compacts over 8 transfers with the default,
 * 16-22 with 4 MiB, 15 with 2 MiB, 140 with 1 MiB, where Buffers start to be
 * promoted; total server user time 8.5 s -> 6.8-7.3 s).
 *
 * --no-memory-reducer: after ~10 s without traffic V8's memory reducer
 * shrinks the heap limits, and the next large transfer started in that
 * storm (transfers alternating with OpenSSH's, 4 rounds of 512 MiB up and
 * down: 203-233 mark-compacts and 139-220 MB/s without it, 34-104 and
 * 250-384 MB/s with it). The cost is that an idle daemon keeps its heap at
 * the size its last burst left.
 *
 * --initial-old-space-size=128 (MiB): V8 counts the Buffers allocated since
 * the last mark-compact against the old generation's limit, and a transfer
 * allocates its whole payload as Buffers (socket reads, SSH packets) that
 * only the next scavenge frees: ~20 MiB of them between two scavenges of an
 * SFTP upload. With the limit V8 derives from a ~20 MB heap (28-32 MB), that
 * started a full mark-compact every ~40 ms in about half of the uploads
 * (`--trace-gc --trace-incremental-marking`: "Start (allocation limit)" with
 * 9 MB of slack; 26-62 mark-compacts per transfer in those, 0 in the others;
 * 1 GiB aes128-gcm uploads at 382-557 MB/s in the slow ones, 715-1211 in the
 * fast). Starting with a 64 MiB limit: at most one mark-compact per transfer
 * over 20 transfers, uploads 620-1085 MB/s. The heap may hold that much
 * garbage before it is collected. See README, "Benchmarks".
 * The live heap has since grown (more services and SDKs loaded at start) to
 * ~46 MB, and with 64 MiB the slack fell back to 13-17 MB: "Start (allocation
 * limit)" right after each mark-compact again, 37 mark-compacts over two 1 GiB
 * downloads and two 1 GiB uploads, against 2 with 128 MiB in the same run
 * (aes128-gcm, server CPU per GiB down 296 -> 184 ticks, up 358-454 ->
 * 207-437; docs/benchmarks.md).
 */
export const NODE_FLAGS: readonly string[] = ['--max-semi-space-size=4', '--no-memory-reducer', '--initial-old-space-size=128'];

/** The NODE_FLAGS this process was not started with (from its argv or NODE_OPTIONS). */
export function missingNodeFlags(execArgv: readonly string[], nodeOptions: string | undefined): string[] {
  const given = [...execArgv, ...(nodeOptions ?? '').split(/\s+/)];
  const name = (f: string): string => f.split('=')[0]!.replace(/_/g, '-');
  return NODE_FLAGS.filter((f) => !given.some((g) => name(g) === name(f)));
}
