/**
 * Disk quota and data-transfer quota for one session, SFTPGo rules:
 * an item belongs to the virtual folder that contains its parent dir when
 * that folder has its own quota, else to the user; used counters are read
 * fresh from the provider; data_provider.track_quota 0 disables tracking,
 * 2 (default) tracks users only when they have quota limits.
 */
import type { User, VirtualFolder } from '../dataprovider/models';
import type { DataProviderService } from '../dataprovider/types';
import type { AppLogger } from '../logger/types';
import { isIncludedInUserQuota, type MountTable } from './mounts';
import { vdir } from './vpath';

export type QuotaProvider = Pick<DataProviderService,
  'getUser' | 'getFolder' | 'updateUserQuota' | 'updateFolderQuota' | 'updateUserTransferQuota'>
  & Partial<Pick<DataProviderService, 'updateUserTransferTimestamps'>>;

export interface QuotaCheck {
  hasSpace: boolean;
  /** bytes still allowed, 0 = unlimited */
  remainingSize: number;
  quotaSize: number;
  quotaFiles: number;
  usedSize: number;
  usedFiles: number;
}

export interface TransferQuota {
  /** bytes still allowed, -1 = unlimited */
  upload: number;
  download: number;
}

const MB = 1024 * 1024;

export class QuotaService {
  constructor(
    private readonly provider: QuotaProvider,
    private readonly user: User,
    private readonly mounts: MountTable,
    private readonly trackQuota: number,
    private readonly logger: AppLogger,
    private readonly connectionId: string,
  ) {}

  /** The folder with its own quota that owns `vpath`, if any. */
  ownerFolder(vpath: string): VirtualFolder | undefined {
    const f = this.mounts.folderFor(vdir(vpath));
    return f && !isIncludedInUserQuota(f) ? f : undefined;
  }

  async check(vpath: string, checkFiles: boolean): Promise<QuotaCheck> {
    const ok: QuotaCheck = { hasSpace: true, remainingSize: 0, quotaSize: 0, quotaFiles: 0, usedSize: 0, usedFiles: 0 };
    if (this.trackQuota === 0) return ok;
    const folder = this.ownerFolder(vpath);
    const limits = folder ?? this.user;
    const qs = Math.max(limits.quota_size ?? 0, 0);
    const qf = Math.max(limits.quota_files ?? 0, 0);
    if (qs === 0 && (!checkFiles || qf === 0)) return ok;
    let usedSize = 0;
    let usedFiles = 0;
    try {
      if (folder) {
        const f = await this.provider.getFolder(folder.name);
        usedSize = f?.used_quota_size ?? 0; usedFiles = f?.used_quota_files ?? 0;
      } else {
        const u = await this.provider.getUser(this.user.username);
        usedSize = u?.used_quota_size ?? 0; usedFiles = u?.used_quota_files ?? 0;
      }
    } catch (e) {
      this.logger.warn('common', `unable to get used quota: ${(e as Error).message}`, { connection_id: this.connectionId });
      return { ...ok, hasSpace: false };
    }
    const res: QuotaCheck = { hasSpace: true, remainingSize: 0, quotaSize: qs, quotaFiles: qf, usedSize, usedFiles };
    if ((checkFiles && qf > 0 && usedFiles >= qf) || (qs > 0 && usedSize >= qs)) return { ...res, hasSpace: false };
    if (qs > 0) res.remainingSize = qs - usedSize;
    return res;
  }

  /** Adds deltas to the used quota of whoever owns `vpath`. */
  async update(vpath: string, filesDelta: number, sizeDelta: number): Promise<void> {
    if (this.trackQuota === 0 || (filesDelta === 0 && sizeDelta === 0)) return;
    const folder = this.ownerFolder(vpath);
    try {
      if (folder) {
        await this.provider.updateFolderQuota(folder.name, sizeDelta, filesDelta);
      } else {
        if (this.trackQuota === 2 && !((this.user.quota_size ?? 0) > 0 || (this.user.quota_files ?? 0) > 0)) return;
        await this.provider.updateUserQuota(this.user.username, sizeDelta, filesDelta);
      }
    } catch (e) {
      this.logger.warn('common', `unable to update quota: ${(e as Error).message}`, { connection_id: this.connectionId });
    }
  }

  hasTransferLimits(): boolean {
    const u = this.user;
    return (u.upload_data_transfer ?? 0) > 0 || (u.download_data_transfer ?? 0) > 0 || (u.total_data_transfer ?? 0) > 0;
  }

  /** Remaining data transfer (SFTPGo GetTransferQuota): the total limit, when set, wins. */
  async transferQuota(): Promise<TransferQuota> {
    if (!this.hasTransferLimits()) return { upload: -1, download: -1 };
    let usedUL = 0;
    let usedDL = 0;
    try {
      const u = await this.provider.getUser(this.user.username);
      usedUL = u?.used_upload_data_transfer ?? 0; usedDL = u?.used_download_data_transfer ?? 0;
    } catch (e) {
      this.logger.warn('common', `unable to get used transfer quota: ${(e as Error).message}`, { connection_id: this.connectionId });
      return { upload: 0, download: 0 };
    }
    const total = (this.user.total_data_transfer ?? 0) * MB;
    if (total > 0) {
      const left = Math.max(total - usedUL - usedDL, 0);
      return { upload: left, download: left };
    }
    const ul = (this.user.upload_data_transfer ?? 0) * MB;
    const dl = (this.user.download_data_transfer ?? 0) * MB;
    return { upload: ul > 0 ? Math.max(ul - usedUL, 0) : -1, download: dl > 0 ? Math.max(dl - usedDL, 0) : -1 };
  }

  async updateTransfer(uploaded: number, downloaded: number): Promise<void> {
    if (!this.hasTransferLimits() || (uploaded === 0 && downloaded === 0)) return;
    try {
      await this.provider.updateUserTransferQuota(this.user.username, uploaded, downloaded);
    } catch (e) {
      this.logger.warn('common', `unable to update transfer quota: ${(e as Error).message}`, { connection_id: this.connectionId });
    }
  }

  /** Records the user's first upload/download; true when this call was that first one (first-upload/first-download actions). */
  async markFirstTransfer(kind: 'upload' | 'download'): Promise<boolean> {
    const fn = this.provider.updateUserTransferTimestamps;
    if (!fn) return false;
    const already = kind === 'upload' ? this.user.first_upload : this.user.first_download;
    if (already && already > 0) return false;
    try {
      await fn.call(this.provider, this.user.username, kind === 'upload');
      if (kind === 'upload') this.user.first_upload = Date.now(); else this.user.first_download = Date.now();
      return true;
    } catch (e) {
      this.logger.warn('common', `unable to update transfer timestamps: ${(e as Error).message}`, { connection_id: this.connectionId });
      return false;
    }
  }
}
