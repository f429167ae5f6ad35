import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { FastifyRequest } from 'fastify';
import { resolveClientIp } from '../../../src/httpd/plugins/clientip';

const req = (remote: string, headers: Record<string, string>): FastifyRequest =>
  ({ raw: { socket: { remoteAddress: remote } }, headers } as unknown as FastifyRequest);

test('proxy headers are trusted only from allowed proxies', () => {
  const b = { client_ip_proxy_header: 'X-Real-IP', client_ip_header_depth: 0, proxy_allowed: ['10.0.0.0/8'] };
  assert.equal(resolveClientIp(req('10.0.0.5', { 'x-real-ip': '198.51.100.7' }), b), '198.51.100.7');
  assert.equal(resolveClientIp(req('192.168.1.1', { 'x-real-ip': '198.51.100.7' }), b), '192.168.1.1');
  assert.equal(resolveClientIp(req('::ffff:10.0.0.5', { 'x-real-ip': '198.51.100.7' }), b), '198.51.100.7');
  assert.equal(resolveClientIp(req('10.0.0.5', {}), b), '10.0.0.5');
  assert.equal(resolveClientIp(req('10.0.0.5', { 'x-real-ip': 'bogus' }), b), '10.0.0.5');
  // no proxy_allowed: never trusted
  assert.equal(resolveClientIp(req('10.0.0.5', { 'x-real-ip': '198.51.100.7' }), { ...b, proxy_allowed: [] }), '10.0.0.5');
  const xff = { client_ip_proxy_header: 'X-Forwarded-For', client_ip_header_depth: 2, proxy_allowed: ['10.0.0.5'] };
  assert.equal(resolveClientIp(req('10.0.0.5', { 'x-forwarded-for': '1.1.1.1, 2.2.2.2, 3.3.3.3' }), xff), '1.1.1.1');
  assert.equal(resolveClientIp(req('10.0.0.5', { 'x-forwarded-for': '2.2.2.2, 3.3.3.3' }), xff), '10.0.0.5');
});
