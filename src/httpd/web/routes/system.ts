/** Live connections (view/close), services status, backup and restore. */
import { isValidationError } from '../../../dataprovider/validation';
import { FsError } from '../../../common/errors';
import { UPLOAD_LIMIT, type WebApp } from '../webapp';

interface ServiceRow { name: string; active: boolean; detail: string }

function bindingsText(bindings: unknown): string {
  if (!Array.isArray(bindings) || bindings.length === 0) return 'no bindings';
  return bindings.map((b) => {
    const o = b as { address?: unknown; port?: unknown };
    return `${typeof o.address === 'string' && o.address !== '' ? o.address : '*'}:${String(o.port ?? '')}`;
  }).join(', ');
}

export function registerSystemPages(w: WebApp): void {
  const { ctx, views } = w;

  w.get('/connections', ['view_conns'], async (r) => {
    // an admin with a role sees the sessions of its role's users only (as GET /api/v2/connections)
    const role = r.admin.role;
    const conns = ctx.connections.list().filter((c) => !role || c.role === role).sort((a, b) => a.connectedAt - b.connectedAt);
    return views.send(r.reply, 'connections', r.page, { title: 'Active connections', nav: 'connections', conns });
  });

  w.post<{ id: string }>('/connections/:id/close', ['close_conns'], async (r, p) => {
    const visible = !r.admin.role || ctx.connections.list().some((c) => c.id === p.id && c.role === r.admin.role);
    const ok = visible && ctx.connections.close(p.id);
    if (ok) ctx.logger.info('httpd', `connection ${p.id} closed from the web admin`, { executor: r.admin.username });
    return w.done(r, '/connections', ok ? 'Connection closed.' : 'The connection was already closed.', ok ? 'success' : 'error');
  });

  w.get('/status', ['view_status'], async (r) => {
    const c = ctx.config;
    // the live state when httpd passes it (GET /api/v2/status's source); otherwise the configured bindings
    const live = w.opts.serviceStatus?.();
    const row = (name: string, key: string, configured: { port: number }[]): ServiceRow => {
      const v = live?.[key] as { is_active?: unknown; bindings?: unknown } | undefined;
      const active = live ? v?.is_active === true : configured.some((b) => b.port > 0);
      return { name, active, detail: active ? bindingsText(v?.bindings ?? configured.filter((b) => b.port > 0)) : 'not running' };
    };
    const defenderOn = live ? (live['defender'] as { is_active?: unknown } | undefined)?.is_active === true : c.common.defender.enabled;
    const services: ServiceRow[] = [
      row('SFTP / SCP', 'ssh', c.sftpd.bindings),
      row('FTP / FTPS', 'ftp', c.ftpd.bindings),
      row('WebDAV', 'webdav', c.webdavd.bindings),
      { name: 'HTTP (REST API, web admin)', active: true, detail: `serving this page at ${r.req.hostname}` },
      { name: 'Defender', active: defenderOn, detail: defenderOn ? 'enabled' : 'disabled' },
    ];
    let providerError = '';
    try {
      await ctx.provider.backend.checkAvailability();
    } catch (e) {
      providerError = e instanceof Error ? e.message : String(e);
    }
    ctx.metrics.providerAvailability(providerError === '');
    return views.send(r.reply, 'status', r.page, {
      title: 'Status', nav: 'status', services,
      provider: { driver: ctx.provider.backend.driver, active: providerError === '', error: providerError },
      version: ctx.version, connections: ctx.connections.list().length, transfers: ctx.connections.activeTransfers(),
    });
  });

  w.get('/maintenance', ['manage_system'], async (r) => views.send(r.reply, 'maintenance', r.page, { title: 'Maintenance', nav: 'maintenance' }));

  // POST (with the CSRF token) so the backup, which holds password hashes, is never fetched by a plain link
  w.post('/maintenance/backup', ['manage_system'], async (r) => {
    const dump = await ctx.provider.dump();
    ctx.logger.info('httpd', 'backup downloaded from the web admin', { executor: r.admin.username });
    const name = `sftpgo-backup-${new Date().toISOString().slice(0, 19).replace(/[:T]/g, '-')}.json`;
    return r.reply.type('application/json').header('content-disposition', `attachment; filename="${name}"`)
      .header('cache-control', 'no-store').send(JSON.stringify(dump, null, 2));
  });

  w.post('/maintenance/restore', ['manage_system'], async (r, _p, form) => {
    const text = form.str('backup_file');
    const mode = Number(form.str('mode') || '0');
    if (![0, 1, 2].includes(mode)) return w.done(r, '/maintenance', 'Invalid restore mode.', 'error');
    if (text === '') return w.done(r, '/maintenance', 'Please choose a backup file to restore.', 'error');
    let dump: unknown;
    try {
      dump = JSON.parse(text);
    } catch {
      return w.done(r, '/maintenance', 'The uploaded file is not valid JSON.', 'error');
    }
    try {
      const { users } = await ctx.provider.restore(dump, mode);
      if (mode === 2) for (const u of users) ctx.connections.closeUser(u);
      ctx.logger.info('httpd', `restore from the web admin, mode ${mode}`, { executor: r.admin.username, users: users.length });
      return w.done(r, '/maintenance', `Data restored (${users.length} user(s)).`);
    } catch (e) {
      if (isValidationError(e) || e instanceof FsError) return w.done(r, '/maintenance', `Restore failed: ${e.message}`, 'error');
      throw e;
    }
  }, UPLOAD_LIMIT);
}
