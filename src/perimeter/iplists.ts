/**
 * The IP lists the perimeter consults on every connection, held as prefix
 * tables (util/ipnet.ts: cost by distinct prefix lengths, not by entries)
 * rebuilt from the provider when the lists change (API, restore, start-up).
 * As SFTPGo, the longest network that names the protocol decides.
 */
import type { ProtocolName } from '../dataprovider/models';
import { IP_LIST_TYPES, PROTOCOL_BITS, type IpListEntry, type IpListStore, type IpListType } from '../dataprovider/iplist';
import { parseNet, PrefixTable } from '../util/ipnet';

export class IpListTables {
  private tables = new Map<IpListType, PrefixTable<IpListEntry>>();

  constructor(private readonly store: IpListStore) {}

  /** Reloads every type from the provider; the previous tables serve until the new ones are complete. */
  async reload(): Promise<void> {
    const next = new Map<IpListType, PrefixTable<IpListEntry>>();
    for (const type of IP_LIST_TYPES) {
      const table = new PrefixTable<IpListEntry>();
      for (const e of await this.store.listIpListEntries(type)) {
        const net = parseNet(e.ipornet);
        if (net) table.add(net, e);
      }
      next.set(type, table);
    }
    this.tables = next;
  }

  /** The deciding entry for `ip` on `protocol`, if any. */
  match(type: IpListType, ip: string, protocol: ProtocolName): IpListEntry | undefined {
    const table = this.tables.get(type);
    if (!table || table.size === 0) return undefined;
    const bit = PROTOCOL_BITS[protocol];
    return table.match(ip, (e) => e.protocols === 0 || (e.protocols & bit) !== 0);
  }

  size(type: IpListType): number {
    return this.tables.get(type)?.size ?? 0;
  }
}
