import type { Stats } from 'node:fs';
import type { FileInfo } from './fs';

export function statsToFileInfo(name: string, st: Stats): FileInfo {
  return {
    name,
    size: st.size,
    mode: st.mode,
    mtime: st.mtime,
    atime: st.atime,
    uid: st.uid,
    gid: st.gid,
    isDirectory: st.isDirectory(),
    isFile: st.isFile(),
    isSymlink: st.isSymbolicLink(),
    nlink: st.nlink,
  };
}
