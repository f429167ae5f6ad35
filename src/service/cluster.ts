/**
 * data_provider.is_shared 1: this process joins the cluster of nodes sharing
 * the database (cluster/node.ts). Refused at start-up where it cannot hold:
 * SQLite and memory cannot be shared, and without node.host the other nodes
 * could not reach this one (connections and max_sessions would be per node).
 */
import type { AppConfig } from '../config/types';
import type { ConnectionManager } from '../common/context';
import type { DataProviderService } from '../dataprovider/types';
import type { SecretsKms } from '../kms/types';
import type { AppLogger } from '../logger/types';
import { ClusterNode } from '../cluster/node';
import { withClusterSessions, type ClusterPort } from '../cluster/sessions';
import type { NodeSettings } from '../cluster/node';
import { workerNodePort } from './workers';

const SHARED_DRIVERS = ['postgresql', 'mysql', 'cockroachdb'];

export function checkSharedProvider(config: AppConfig): void {
  const dp = config.data_provider;
  if (dp.is_shared !== 1) return;
  if (!SHARED_DRIVERS.includes(dp.driver)) {
    throw new Error(`data_provider.is_shared 1 is not supported with the ${dp.driver} driver: ` +
      `a shared data provider needs ${SHARED_DRIVERS.join(', ')}`);
  }
  if (!dp.node.host) {
    throw new Error('data_provider.is_shared 1 needs data_provider.node.host (and port, proto): ' +
      'the address the other nodes use to reach this node\'s REST API');
  }
}

/** Registers this node; returns the connection manager that records sessions cluster-wide. */
export async function joinCluster(config: AppConfig, provider: DataProviderService, kms: SecretsKms, logger: AppLogger,
  connections: ConnectionManager): Promise<{ connections: ConnectionManager; port?: ClusterPort }> {
  if (config.data_provider.is_shared !== 1) return { connections };
  const store = provider.backend.cluster;
  if (!store) throw new Error(`the ${config.data_provider.driver} data provider cannot hold cluster nodes`);
  const node = new ClusterNode({ store, kms, logger, settings: nodeSettings(config) });
  await node.start();
  return withClusterSessions(connections, node, logger);
}

/**
 * A worker of `serve --workers N` shares the public ports with its siblings, so
 * peers could not pick it out there: it is registered on its own private REST
 * port (chosen by the primary), served by an extra httpd binding copied from
 * the first REST binding.
 */
function nodeSettings(config: AppConfig): NodeSettings {
  const port = workerNodePort();
  if (port === undefined) return config.data_provider.node;
  const rest = config.httpd.bindings.find((b) => b.enable_rest_api && b.port > 0);
  if (!rest) throw new Error('workers need an httpd binding with enable_rest_api: the nodes call each other through the REST API');
  const host = config.data_provider.node.host;
  config.httpd.bindings.push({ ...rest, address: host, port });
  return { host, port, proto: rest.enable_https ? 'https' : 'http' };
}
