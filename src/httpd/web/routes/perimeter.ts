/**
 * Web admin pages for the perimeter: the defender's hosts (view_defender,
 * unban with manage_defender) and the IP lists (every permission, as the
 * REST API), writing through the same provider store and reloading the
 * running perimeter's tables.
 */
import { FsError } from '../../../common/errors';
import { canonicalIpOrNet, ipListTypeOf, validateIpListEntry, type IpListType } from '../../../dataprovider/iplist';
import { isValidationError } from '../../../dataprovider/validation';
import { ipBytes } from '../../../util/ipnet';
import type { WebApp, WebRequest } from '../webapp';

const LIST_NAMES: Record<IpListType, string> = { 1: 'Allow list', 2: 'Defender', 3: 'Rate limiters safe list' };
const PROTOCOL_BITS: [string, number][] = [['SSH', 1], ['FTP', 2], ['DAV', 4], ['HTTP', 8]];

export function registerPerimeterPages(w: WebApp): void {
  const { ctx, views } = w;
  const store = ctx.provider.backend.perimeter;

  w.get('/defender', ['view_defender'], async (r) => {
    const hosts = await ctx.perimeter.defenderHosts();
    return views.send(r.reply, 'defender', r.page, {
      title: 'Defender', nav: 'defender', hosts, enabled: ctx.config.common.defender.enabled,
    });
  });

  w.post<{ id: string }>('/defender/:id/delete', ['manage_defender'], async (r, p) => {
    const ip = Buffer.from(p.id, 'hex').toString('utf8');
    if (!ipBytes(ip) || !(await ctx.perimeter.deleteDefenderHost(ip))) return w.done(r, '/defender', 'The host is not known to the defender.', 'error');
    ctx.logger.info('httpd', `defender host ${ip} removed from the web admin`, { executor: r.admin.username });
    return w.done(r, '/defender', `Host ${ip} unbanned.`);
  });

  const render = async (r: WebRequest, type: IpListType, error?: string) => {
    const entries = await store.listIpListEntries(type, { limit: 500 });
    const page = error ? { ...r.page, flash: { kind: 'error' as const, text: error } } : r.page;
    const protocols = (bits: number): string => (bits === 0 ? 'all' : PROTOCOL_BITS.filter(([, b]) => (bits & b) !== 0).map(([n]) => n).join(', '));
    return views.send(r.reply, 'iplists', page, {
      title: 'IP lists', nav: 'iplists', type, names: LIST_NAMES, entries: entries.map((e) => ({ ...e, protocolsText: protocols(e.protocols) })),
      protocolBits: PROTOCOL_BITS,
    }, error ? 400 : 200);
  };

  w.get<{ type: string }>('/iplists/:type', ['*'], async (r, p) => render(r, ipListTypeOf(p.type)));

  w.post<{ type: string }>('/iplists/:type', ['*'], async (r, p, form) => {
    const type = ipListTypeOf(p.type);
    try {
      const protocols = PROTOCOL_BITS.reduce((sum, [n, b]) => (form.has(`proto_${n}`) ? sum + b : sum), 0);
      const entry = validateIpListEntry({
        ipornet: form.str('ipornet'), type, mode: type === 2 ? form.int('mode', 'Mode', 1) : 1, protocols, description: form.str('description'),
      }, Date.now());
      await store.addIpListEntry(entry);
      await ctx.perimeter.reloadIpLists();
    } catch (e) {
      if (isValidationError(e) || (e instanceof FsError && e.kind === 'AlreadyExists')) return render(r, type, e.message);
      throw e;
    }
    return w.done(r, `/iplists/${type}`, 'Entry added.');
  });

  w.post<{ type: string; ipornet: string }>('/iplists/:type/:ipornet/delete', ['*'], async (r, p) => {
    const type = ipListTypeOf(p.type);
    try {
      await store.deleteIpListEntry(type, canonicalIpOrNet(p.ipornet));
      await ctx.perimeter.reloadIpLists();
    } catch (e) {
      if (isValidationError(e) || (e instanceof FsError && e.kind === 'NotFound')) return w.done(r, `/iplists/${type}`, 'The entry does not exist.', 'error');
      throw e;
    }
    return w.done(r, `/iplists/${type}`, 'Entry deleted.');
  });
}
