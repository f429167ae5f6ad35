/**
 * Fires common.post_disconnect_hook when a registered session ends, whatever
 * closed it (client, idle timeout, admin, shutdown): a thin wrapper around
 * the ConnectionManager built in service/app.ts, so no adapter has to
 * remember the hook. SFTPGo runs it per SSH channel (SFTP, SCP, SSH command)
 * and per FTP connection, with the duration since the session started.
 */
import type { ConnectionManager, NewConnectionRequest } from '../common/context';
import type { FileOps } from '../common/types';
import { ipFromAddr } from '../common/throttle';
import type { Hooks } from './index';

interface Tracked { ip: string; protocol: string; username: string; startedAt: number }

export function withDisconnectHook(inner: ConnectionManager, hooks: Hooks, now: () => number = Date.now): ConnectionManager {
  const tracked = new Map<string, Tracked>();
  const fire = (id: string): void => {
    const t = tracked.get(id);
    if (!t) return;
    tracked.delete(id);
    hooks.postDisconnect({ ip: t.ip, protocol: t.protocol, username: t.username, connectionId: id, durationMs: now() - t.startedAt });
  };
  return {
    acceptClient: (ip) => inner.acceptClient(ip),
    add(req: NewConnectionRequest): FileOps {
      const ops = inner.add(req);
      tracked.set(ops.id, { ip: ipFromAddr(req.remoteAddr) || req.remoteAddr, protocol: req.protocol, username: req.user.username, startedAt: req.connectedAt ?? now() });
      return ops;
    },
    async remove(id: string): Promise<void> {
      try {
        await inner.remove(id);
      } finally {
        fire(id);
      }
    },
    list: () => inner.list(),
    close: (id) => inner.close(id),
    closeUser: (username) => inner.closeUser(username),
    activeTransfers: () => inner.activeTransfers(),
    async shutdown(graceMs: number): Promise<void> {
      await inner.shutdown(graceMs);
      // sessions the shutdown closed without their adapter calling remove() still get their hook
      for (const id of [...tracked.keys()]) fire(id);
    },
    get isShuttingDown() { return inner.isShuttingDown; },
  };
}
