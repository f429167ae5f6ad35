/** What a Connection (one authenticated session) is built with: the connection manager fills it. */
import type { CommonConfig } from '../config/types';
import type { User } from '../dataprovider/models';
import type { AppLogger } from '../logger/types';
import type { Metrics } from '../metrics/types';
import type { EventSink } from './events';
import type { FsFactory } from './fs-factory';
import type { QuotaProvider } from './quota';
import type { Protocol } from './types';

export interface ConnectionOptions {
  id: string;
  protocol: Protocol;
  user: User;
  remoteAddr: string;
  localAddr: string;
  clientVersion?: string;
  config: CommonConfig;
  logger: AppLogger;
  metrics: Metrics;
  provider: QuotaProvider;
  /** data_provider.track_quota (0 off, 1 always, 2 only users with limits); default 2 */
  trackQuota?: number;
  isShuttingDown: () => boolean;
  /** told when the number of open transfers of this session changes */
  onTransfersChanged?: (delta: number) => void;
  /** builds the backends of the home and the virtual folders (service/filesystems.ts) */
  filesystems: FsFactory;
  /** where filesystem events go (common.actions, event rules); default: nowhere */
  events?: EventSink;
}
