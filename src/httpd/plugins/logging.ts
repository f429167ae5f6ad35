/**
 * One access-log line per request (sender httpd, SFTPGo's field names). The
 * Authorization and API key headers are never logged; the query string is
 * part of `uri` as in SFTPGo (the URL as the client sent it, web_root prefix
 * included), and no API route takes a secret in the query.
 */
import type { TLSSocket } from 'node:tls';
import type { FastifyInstance } from 'fastify';
import type { AppLogger } from '../../logger/types';

export function installAccessLog(app: FastifyInstance, logger: AppLogger, scheme: 'http' | 'https'): void {
  app.addHook('onResponse', async (req, reply) => {
    const sock = req.raw.socket;
    const len = Number(reply.getHeader('content-length') ?? 0);
    const tls = scheme === 'https' ? (sock as TLSSocket).getCipher?.() : undefined;
    logger.http({
      local_addr: `${sock.localAddress ?? ''}:${sock.localPort ?? 0}`,
      remote_addr: `${req.clientIp}:${sock.remotePort ?? 0}`,
      proto: `HTTP/${req.raw.httpVersion}`,
      method: req.method,
      user_agent: req.headers['user-agent'] ?? '',
      // as received: with httpd.web_root, req.url has lost the prefix (rewriteUrl)
      uri: `${scheme}://${req.headers.host ?? ''}${req.originalUrl}`,
      cipher_suite: tls?.name,
      request_id: req.id,
      resp_status: reply.statusCode,
      resp_size: Number.isFinite(len) ? len : 0,
      elapsed_ms: Math.round(reply.elapsedTime),
    });
  });
}
