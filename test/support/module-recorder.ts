/**
 * A `--require` preload that records which packages a process loads: every
 * bare module request (`ssh2`, `@aws-sdk/client-s3/dist-cjs/...`) is reduced
 * to its package name and appended, once, to the file named by
 * MODULE_RECORD_FILE. Appends are synchronous, so the file is complete up to
 * the moment it is read, while the process keeps running. Used by
 * test/e2e/cli/lazy-modules.test.ts to see from outside what a `sftpgo`
 * process has loaded.
 */
import { appendFileSync } from 'node:fs';
import Module from 'node:module';

type Load = (request: string, parent: unknown, isMain: boolean) => unknown;

const target = process.env.MODULE_RECORD_FILE;
if (target) {
  const loader = Module as unknown as { _load: Load };
  const original = loader._load;
  const recorded = new Set<string>();
  loader._load = function recordingLoad(this: unknown, request: string, parent: unknown, isMain: boolean): unknown {
    // the package is recorded only once its load succeeded: a failed optional require is not a load
    const result = original.call(this, request, parent, isMain);
    const pkg = Module.isBuiltin(request) ? undefined : /^(?!\.|\/)((?:@[^/]+\/)?[^/]+)/.exec(request)?.[1];
    if (pkg !== undefined && !recorded.has(pkg)) {
      recorded.add(pkg);
      appendFileSync(target, `${pkg}\n`);
    }
    return result;
  };
}
