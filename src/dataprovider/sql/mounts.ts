/**
 * A folder mount as users_folders_mapping and groups_folders_mapping hold it: the mapping's virtual path, quota and
 * subpath joined with the folder row. Both owners read the same columns, so the row shape lives here once.
 */
import type { FilesystemConfig, VirtualFolder } from '../models';
import type { Row } from './dialect';
import { json, num, str } from './context';

/** The columns to select (mapping alias `m`, folder alias `f`) for {@link mountFromRow}. */
export const MOUNT_COLUMNS = `m.virtual_path, m.quota_size AS m_quota_size, m.quota_files AS m_quota_files, m.subpath, f.id, f.name,
       f.description, f.path, f.used_quota_size, f.used_quota_files, f.last_quota_update, f.filesystem`;

export function mountFromRow(r: Row): VirtualFolder {
  const vf: VirtualFolder = {
    id: num(r.id), name: str(r.name), description: str(r.description), mapped_path: str(r.path),
    used_quota_size: num(r.used_quota_size), used_quota_files: num(r.used_quota_files),
    last_quota_update: num(r.last_quota_update), filesystem: json<FilesystemConfig>(r.filesystem, { provider: 0 }),
    virtual_path: str(r.virtual_path), quota_size: num(r.m_quota_size), quota_files: num(r.m_quota_files),
  };
  // '' is the whole folder: the API leaves the field out then, as SFTPGo does (omitempty)
  const subpath = str(r.subpath);
  if (subpath !== '') vf.subpath = subpath;
  return vf;
}
