/**
 * Node-to-node REST calls (SFTPGo's Node.SendGetRequest/SendDeleteRequest):
 * the caller signs a one-minute token with the target's key and sends it in
 * X-SFTPGO-Node; the target acts with the admin's name, role and only the
 * permission the call needs. Errors from one peer never fail the whole answer.
 */
import type { NodeRecord } from '../dataprovider/sql/nodes';
import type { AppLogger } from '../logger/types';
import { baseUrlOf, parseNodeData, type ClusterNode } from './node';

export const NODE_TOKEN_HEADER = 'x-sftpgo-node';
const NODE_REQUEST_TIMEOUT_MS = 8_000;
/** a peer's answer larger than this is refused (SFTPGo reads at most 10 MiB) */
const MAX_RESPONSE_BYTES = 10 * 1024 * 1024;
const CONNECTIONS_PATH = '/api/v2/connections';

export interface OnBehalfOf { username: string; role: string }

async function send(node: ClusterNode, target: NodeRecord, who: OnBehalfOf, method: 'GET' | 'DELETE', path: string, perm: string): Promise<Response> {
  const token = await node.tokenFor(target, { username: who.username, role: who.role, permissions: [perm] });
  const res = await fetch(`${baseUrlOf(parseNodeData(target))}${path}`, {
    method, headers: { [NODE_TOKEN_HEADER]: `Bearer ${token}` }, signal: AbortSignal.timeout(NODE_REQUEST_TIMEOUT_MS),
  });
  if (res.status < 200 || res.status > 204) {
    await res.body?.cancel();
    throw new Error(`unexpected status code: ${res.status}`);
  }
  return res;
}

/** The connections of every other active node, each tagged with its node (peers that fail are logged and skipped). */
export async function peerConnections(node: ClusterNode, who: OnBehalfOf, logger: AppLogger): Promise<Record<string, unknown>[]> {
  let peers: NodeRecord[];
  try {
    peers = await node.peers();
  } catch (e) {
    logger.warn('cluster', `unable to list the cluster nodes: ${(e as Error).message}`);
    return [];
  }
  const lists = await Promise.all(peers.map(async (peer) => {
    try {
      const res = await send(node, peer, who, 'GET', CONNECTIONS_PATH, 'view_conns');
      const text = await res.text();
      if (text.length > MAX_RESPONSE_BYTES) throw new Error('response too large');
      const body: unknown = JSON.parse(text);
      if (!Array.isArray(body)) throw new Error('unable to decode response as json');
      return body.filter((c): c is Record<string, unknown> => typeof c === 'object' && c !== null)
        .map((c) => ({ ...c, node: peer.name }));
    } catch (e) {
      logger.warn('cluster', `unable to get connections from node ${peer.name}: ${(e as Error).message}`);
      return [];
    }
  }));
  return lists.flat();
}

/** Closes a connection held by node `nodeName`; false when the node or the connection is unknown. */
export async function closePeerConnection(node: ClusterNode, nodeName: string, connectionId: string, who: OnBehalfOf, logger: AppLogger): Promise<boolean> {
  try {
    const peer = await node.peer(nodeName);
    if (!peer) {
      logger.warn('cluster', `unable to get node with name "${nodeName}"`);
      return false;
    }
    const res = await send(node, peer, who, 'DELETE', `${CONNECTIONS_PATH}/${encodeURIComponent(connectionId)}`, 'close_conns');
    await res.body?.cancel();
    return true;
  } catch (e) {
    logger.warn('cluster', `unable to delete connection id "${connectionId}" from node "${nodeName}": ${(e as Error).message}`);
    return false;
  }
}
