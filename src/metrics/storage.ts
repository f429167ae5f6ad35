/**
 * Per-backend storage metrics with SFTPGo's names (sftpgo_s3_*): transfers
 * between the server and the object store, and the object API calls.
 */
import { Counter, type Registry } from 'prom-client';

export type StorageBackendName = 's3' | 'gcs' | 'az' | 'httpfs';
export type StorageRequest = 'list_objects' | 'copy_object' | 'delete_object' | 'head_object';

export interface StorageMetrics {
  transferCompleted(backend: StorageBackendName, kind: 'upload' | 'download', bytes: number, failed: boolean): void;
  requestCompleted(backend: StorageBackendName, request: StorageRequest, failed: boolean): void;
}

export const NO_STORAGE_METRICS: StorageMetrics = {
  transferCompleted: () => undefined,
  requestCompleted: () => undefined,
};

const LABEL: Record<StorageBackendName, string> = { s3: 'S3', gcs: 'GCS', az: 'Azure Blob', httpfs: 'HTTPFs' };
/** SFTPGo counts object API calls for the object stores only; HTTPFs has transfer counters alone */
const HAS_REQUEST_COUNTERS: Record<StorageBackendName, boolean> = { s3: true, gcs: true, az: true, httpfs: false };

export function createStorageMetrics(registry: Registry, backends: readonly StorageBackendName[] = ['s3']): StorageMetrics {
  const counters = new Map<string, Counter>();
  const counter = (name: string, help: string): void => {
    counters.set(name, new Counter({ name, help, registers: [registry] }));
  };
  for (const b of backends) {
    const l = LABEL[b];
    counter(`sftpgo_${b}_uploads_total`, `The total number of successful ${l} uploads`);
    counter(`sftpgo_${b}_downloads_total`, `The total number of successful ${l} downloads`);
    counter(`sftpgo_${b}_upload_errors_total`, `The total number of ${l} upload errors`);
    counter(`sftpgo_${b}_download_errors_total`, `The total number of ${l} download errors`);
    counter(`sftpgo_${b}_upload_size`, `The total ${l} upload size as bytes, partial uploads are included`);
    counter(`sftpgo_${b}_download_size`, `The total ${l} download size as bytes, partial downloads are included`);
    if (!HAS_REQUEST_COUNTERS[b]) continue;
    for (const r of ['list_objects', 'copy_object', 'delete_object', 'head_object'] as const) {
      counter(`sftpgo_${b}_${r}`, `The total number of ${l} ${r.replace('_', ' ')} requests`);
      counter(`sftpgo_${b}_${r}_errors`, `The total number of ${l} ${r.replace('_', ' ')} errors`);
    }
  }
  const inc = (name: string, by = 1): void => { counters.get(name)?.inc(by); };
  return {
    transferCompleted(backend, kind, bytes, failed) {
      const base = `sftpgo_${backend}_${kind}`;
      inc(failed ? `${base}_errors_total` : `${base}s_total`);
      if (Number.isFinite(bytes) && bytes > 0) inc(`${base}_size`, bytes);
    },
    requestCompleted(backend, request, failed) {
      inc(failed ? `sftpgo_${backend}_${request}_errors` : `sftpgo_${backend}_${request}`);
    },
  };
}
