/** What a transfer (transfer.ts) needs from its connection, and what the connection sees of it. */
import type { User } from '../dataprovider/models';
import type { AppLogger } from '../logger/types';
import type { Metrics } from '../metrics/types';
import type { ActionDone } from './connection-events';
import type { FsAction } from './events';
import type { QuotaService } from './quota';
import type { ActiveTransferInfo, Protocol } from './types';

/** What a transfer needs from its connection. */
export interface TransferHost {
  readonly id: string;
  readonly protocol: Protocol;
  readonly user: User;
  readonly remoteAddr: string;
  readonly localAddr: string;
  readonly logger: AppLogger;
  readonly metrics: Metrics;
  readonly quota: QuotaService;
  /** reports a finished transfer to the event sink (failures only logged) */
  actionDone(action: FsAction, vpath: string, o: ActionDone): Promise<void>;
  /** the `upload` action; resolves to the error of a failed synchronous subscriber */
  uploadDone(vpath: string, fileSize: number, elapsedMs: number, error?: Error): Promise<Error | undefined>;
  register(t: ActiveTransfer): void;
  unregister(t: ActiveTransfer): void;
  touch(): void;
}

export interface ActiveTransfer {
  readonly id: number;
  info(): ActiveTransferInfo;
  close(error?: Error): Promise<void>;
}
