/**
 * The filesystem factory port. service/ builds the one implementation (a
 * registry keyed by SFTPGo's filesystem.provider) and hands it down; common
 * asks it for the home and each virtual folder and never names a backend.
 */
import type { FilesystemConfig } from '../dataprovider/models';
import type { Fs } from '../vfs/fs';

export interface FsTarget {
  /** for logs and errors: "user alice", "folder shared" */
  owner: string;
  /** home_dir or mapped_path: the root of local backends, unused by object stores */
  localRoot: string;
  filesystem: FilesystemConfig;
  /**
   * A virtual folder's subpath (canonical "/a/b"): local roots get it joined,
   * object stores append it to their key prefix, as SFTPGo's WithSubPath.
   */
  subpath?: string;
}

/** Builds the backend for a target; throws FsError('Unsupported') for a provider it cannot serve. */
export type FsFactory = (target: FsTarget) => Fs;
