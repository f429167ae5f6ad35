/** GET /api/v2/connections and DELETE /api/v2/connections/{connectionID}, in SFTPGo's shape. */
import type { FastifyInstance } from 'fastify';
import type { ConnectionInfo } from '../../../common/types';
import type { HttpDeps } from '../../deps';
import { message } from '../../deps';
import { ApiError } from '../../errors';
import { adminRoleOf } from '../../scope';
import { closePeerConnection, peerConnections } from '../../../cluster/peers';
import { apiResponseSchema, errorResponses, paramsFor } from '../../schemas/common';

const connectionSchema = {
  type: 'object',
  properties: {
    username: { type: 'string' },
    connection_id: { type: 'string' },
    client_version: { type: 'string' },
    remote_address: { type: 'string' },
    local_address: { type: 'string' },
    connection_time: { type: 'integer' },
    command: { type: 'string' },
    last_activity: { type: 'integer' },
    protocol: { type: 'string' },
    active_transfers: {
      type: 'array',
      items: {
        type: 'object',
        properties: {
          operation_type: { type: 'string' },
          path: { type: 'string' },
          start_time: { type: 'integer' },
          size: { type: 'integer' },
        },
      },
    },
    node: { type: 'string' },
  },
} as const;

export function toConnectionStatus(c: ConnectionInfo, node = '') {
  return {
    username: c.username,
    connection_id: c.id,
    client_version: c.clientVersion,
    remote_address: c.remoteAddr,
    local_address: c.localAddr,
    connection_time: c.connectedAt,
    command: c.command,
    last_activity: c.lastActivity,
    protocol: c.protocol,
    active_transfers: c.transfers.map((t) => ({ ...t })),
    node,
  };
}

export function registerConnectionRoutes(app: FastifyInstance, deps: HttpDeps): void {
  app.get('/api/v2/connections', {
    config: { perms: ['view_conns'], summary: 'Active connections', tags: ['connections'] },
    schema: { response: { 200: { type: 'array', items: connectionSchema }, ...errorResponses } },
  }, async (req) => {
    // an admin with a role sees the connections of its role's users only (SFTPGo getNodesConnections)
    const role = adminRoleOf(req);
    const cluster = deps.ctx.cluster;
    const local = deps.ctx.connections.list()
      .filter((c) => !role || c.role === role)
      .map((c) => toConnectionStatus(c, cluster?.node.name));
    // a peer's call answers for its own node only (SFTPGo: claims.NodeID set)
    if (!cluster || req.authMethod === 'node') return local;
    return [...local, ...await peerConnections(cluster.node, { username: req.admin?.username ?? '', role: role ?? '' }, deps.ctx.logger)];
  });

  app.delete<{ Params: { connectionID: string }; Querystring: { node?: string } }>('/api/v2/connections/:connectionID', {
    config: { perms: ['close_conns'], summary: 'Close a connection', tags: ['connections'] },
    schema: {
      params: paramsFor('connectionID'),
      querystring: { type: 'object', properties: { node: { type: 'string' } } },
      response: { 200: apiResponseSchema, ...errorResponses },
    },
  }, async (req) => {
    const role = adminRoleOf(req);
    const cluster = deps.ctx.cluster;
    const node = req.query.node ?? '';
    if (cluster && node !== '' && node !== cluster.node.name) {
      const who = { username: req.admin?.username ?? '', role: role ?? '' };
      if (!await closePeerConnection(cluster.node, node, req.params.connectionID, who, deps.ctx.logger)) throw new ApiError(404, 'Not Found');
      return message('Connection closed');
    }
    const target = deps.ctx.connections.list().find((c) => c.id === req.params.connectionID);
    if (role && target?.role !== role) throw new ApiError(404, 'connection not found');
    if (!deps.ctx.connections.close(req.params.connectionID)) throw new ApiError(404, 'connection not found');
    return message('Connection closed');
  });
}
