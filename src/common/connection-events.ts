/**
 * How a session reports to the event sink (src/common/events.ts): the pre-*
 * gates, finished verbs and transfers, the upload action whose synchronous
 * failure fails the upload, SSH commands. Connection delegates here so the
 * event rules stay in one place.
 */
import type { Connection } from './connection';
import { FsError } from './errors';
import type { FsAction } from './events';

export interface ActionDone {
  fileSize: number;
  elapsedMs: number;
  error?: Error;
  targetPath?: string;
  virtualTargetPath?: string;
}

/** SFTPGO_ACTION_FS_PROVIDER: the backend of the mount `vpath` lives on. */
export function fsProviderOf(c: Connection, vpath: string): number {
  const { mount } = c.mounts.resolve(vpath);
  return mount.folder?.filesystem?.provider ?? c.user.filesystem?.provider ?? 0;
}

/** pre-* actions: resolves to go on, throws FsError('PermissionDenied') when a hook or rule refuses. */
export async function preAction(c: Connection, action: FsAction, vpath: string, fileSize: number, openFlags: number): Promise<void> {
  if (!c.events.wants(action)) return;
  const { fs, fsPath } = c.mounts.resolve(vpath);
  await c.events.pre({
    action, session: c, fsPath: fs.fsPath(fsPath), virtualPath: vpath, fileSize, elapsedMs: 0, openFlags, fsProvider: fsProviderOf(c, vpath),
  });
}

/**
 * Reports a finished verb or transfer. Synchronous subscribers are awaited;
 * their failures are logged by the sink and do not change the outcome
 * (SFTPGo ignores them for everything but uploads).
 */
export async function actionDone(c: Connection, action: FsAction, vpath: string, o: ActionDone): Promise<void> {
  if (!c.events.wants(action)) return;
  const { fs, fsPath } = c.mounts.resolve(vpath);
  await c.events.notify({
    action, session: c, fsPath: fs.fsPath(fsPath), virtualPath: vpath, fsTargetPath: o.targetPath, virtualTargetPath: o.virtualTargetPath,
    fileSize: o.fileSize, elapsedMs: o.elapsedMs, error: o.error, fsProvider: fsProviderOf(c, vpath),
  }).catch(() => undefined);
}

/**
 * The `upload` action (SFTPGo executeUploadHook). Resolves to the error of a
 * failed synchronous subscriber: the caller then removes the file and fails
 * the upload. Asynchronous subscribers never fail an upload.
 */
export async function uploadDone(c: Connection, vpath: string, fileSize: number, elapsedMs: number, error?: Error): Promise<Error | undefined> {
  if (!c.events.wants('upload')) return undefined;
  const { fs, fsPath } = c.mounts.resolve(vpath);
  try {
    await c.events.notify({
      action: 'upload', session: c, fsPath: fs.fsPath(fsPath), virtualPath: vpath, fileSize, elapsedMs, error, fsProvider: fsProviderOf(c, vpath),
    });
    return undefined;
  } catch (e) {
    return e instanceof FsError ? e : new FsError('Generic', 'the upload was refused by an upload action');
  }
}

/** SFTPGo reports SSH commands with the resolved paths of the command's arguments (empty for cd/pwd). */
export async function sshCommandDone(c: Connection, commandLine: string, vpath: string, virtualTarget: string, elapsedMs: number, error?: Error): Promise<void> {
  if (!c.events.wants('ssh_cmd')) return;
  const fsPathOf = (v: string): string => {
    if (v === '') return '';
    const r = c.mounts.resolve(v);
    return r.fs.fsPath(r.fsPath);
  };
  await c.events.notify({
    action: 'ssh_cmd', session: c, fsPath: fsPathOf(vpath), virtualPath: vpath, fsTargetPath: fsPathOf(virtualTarget) || undefined,
    virtualTargetPath: virtualTarget || undefined, sshCmd: commandLine, fileSize: 0, elapsedMs, error, fsProvider: vpath ? fsProviderOf(c, vpath) : (c.user.filesystem?.provider ?? 0),
  }).catch(() => undefined);
}
