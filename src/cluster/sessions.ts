/**
 * Records every session this node holds in the shared provider so that
 * max_sessions counts the sessions of all nodes: a thin wrapper around the
 * ConnectionManager (as hooks/connection-tracker.ts), so no adapter has to
 * know about the cluster. The login's register step awaits `admitted(id)`.
 */
import type { ConnectionManager, NewConnectionRequest } from '../common/context';
import type { FileOps } from '../common/types';
import type { AppLogger } from '../logger/types';
import type { ClusterNode } from './node';

export interface ClusterPort {
  node: ClusterNode;
  /** the user's session count on every node once `connectionId` is recorded; rejects when it could not be recorded */
  admitted(connectionId: string): Promise<number>;
}

export function withClusterSessions(inner: ConnectionManager, node: ClusterNode, logger: AppLogger): { connections: ConnectionManager; port: ClusterPort } {
  const recorded = new Map<string, Promise<number>>();
  const connections: ConnectionManager = {
    acceptClient: (ip) => inner.acceptClient(ip),
    add(req: NewConnectionRequest): FileOps {
      const ops = inner.add(req);
      const p = node.sessionOpened(ops.id, req.user.username);
      // observed here so an unawaited failure is logged, never an unhandled rejection
      p.catch((e: Error) => logger.warn('cluster', `unable to record session: ${e.message}`, { connection_id: ops.id }));
      recorded.set(ops.id, p);
      return ops;
    },
    async remove(id: string): Promise<void> {
      try {
        await inner.remove(id);
      } finally {
        const p = recorded.get(id);
        recorded.delete(id);
        if (p) {
          // the row is deleted after its insert settled, so a fast disconnect leaves nothing behind
          await p.catch(() => 0);
          await node.sessionClosed(id).catch((e: Error) => logger.warn('cluster', `unable to forget session: ${e.message}`, { connection_id: id }));
        }
      }
    },
    list: () => inner.list(),
    close: (id) => inner.close(id),
    closeUser: (username) => inner.closeUser(username),
    activeTransfers: () => inner.activeTransfers(),
    async shutdown(graceMs: number): Promise<void> {
      await inner.shutdown(graceMs);
      await node.stop();
    },
    get isShuttingDown() { return inner.isShuttingDown; },
  };
  const port: ClusterPort = {
    node,
    admitted: (id) => recorded.get(id) ?? Promise.reject(new Error(`session ${id} is not recorded`)),
  };
  return { connections, port };
}
