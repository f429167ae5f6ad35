/**
 * A real Azure Blob emulator (azurite) for tests: a child process on a free
 * loopback port, data in a temp dir removed at stop, telemetry always off
 * (a test must never talk to anything off the machine). The container is
 * created through the SDK once the emulator answers.
 */
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { BlobServiceClient, StorageSharedKeyCredential } from '@azure/storage-blob';

/** azurite's well-known development account */
export const AZURITE_ACCOUNT = 'devstoreaccount1';
export const AZURITE_KEY = 'Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==';

export interface TestAzurite {
  /** base URL for use_emulator configs: http://127.0.0.1:PORT */
  endpoint: string;
  container: string;
  pid: number;
  stop(): Promise<void>;
}

const START_TIMEOUT_MS = 60_000;

export async function startAzurite(container = 'test-container'): Promise<TestAzurite> {
  const dir = await mkdtemp(join(tmpdir(), 'azurite-'));
  const bin = join(process.cwd(), 'node_modules', '.bin', 'azurite-blob');
  const child = spawn(bin, ['--blobHost', '127.0.0.1', '--blobPort', '0', '-l', dir, '--skipApiVersionCheck', '--loose',
    '--disableTelemetry'], { stdio: ['ignore', 'pipe', 'pipe'] });
  const lines = createInterface({ input: child.stdout });
  child.stderr.resume();
  // keep draining stdout after start-up so the child never blocks on a full pipe
  child.stdout.on('data', () => undefined);
  const timer = setTimeout(() => child.kill('SIGKILL'), START_TIMEOUT_MS);
  const stop = async (): Promise<void> => {
    if (child.exitCode === null && child.signalCode === null) {
      const exited = once(child, 'exit');
      child.kill('SIGTERM');
      const killer = setTimeout(() => child.kill('SIGKILL'), 10_000);
      await exited;
      clearTimeout(killer);
    }
    await rm(dir, { recursive: true, force: true });
  };
  try {
    // bounded by START_TIMEOUT_MS (the child is killed) and by the child's output
    // port 0: azurite binds a free port and prints the URL it listens on
    const endpoint = await Promise.race([
      (async () => {
        for await (const line of lines) {
          const m = /successfully listens on (http:\/\/127\.0\.0\.1:\d+)/.exec(line);
          if (m) return m[1];
        }
        throw new Error('azurite closed its output before listening');
      })(),
      once(child, 'exit').then(([code]) => { throw new Error(`azurite exited with ${String(code)} before listening`); }),
    ]);
    const svc = new BlobServiceClient(`${endpoint}/${AZURITE_ACCOUNT}`, new StorageSharedKeyCredential(AZURITE_ACCOUNT, AZURITE_KEY));
    await svc.getContainerClient(container).create();
    return { endpoint, container, pid: child.pid as number, stop };
  } catch (e) {
    await stop();
    throw e;
  } finally {
    clearTimeout(timer);
    lines.close();
  }
}

/** An azblobconfig as SFTPGo's JSON has it, for the emulator's container. */
export function azblobconfig(az: TestAzurite, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    container: az.container, account_name: AZURITE_ACCOUNT, account_key: { status: 'Plain', payload: AZURITE_KEY },
    endpoint: az.endpoint, use_emulator: true, ...extra,
  };
}
