/**
 * Dead properties of one path (kept in memory per user, as SFTPGo does), plus
 * the one property with a live meaning: Windows' Win32LastModifiedTime sets
 * the file's mtime through FileOps.setStat instead of being stored.
 * (DAV:getlastmodified is handled by proppatch.ts: the library refuses any
 * DAV: property before it reaches a property manager.)
 */
import { v2 } from 'webdav-server';
import type { FileOps } from '../common/types';
import { FsError } from '../common/errors';
import { toDavError } from './status';
import type { UserDavState } from './state';

export const WIN32_MTIME = 'urn:schemas-microsoft-com:Win32LastModifiedTime';

interface TextNode { type?: string; text?: unknown; elements?: TextNode[] }

/** Concatenated text content of a property value as the library passes it. */
export function textOf(value: unknown): string {
  if (typeof value === 'string') return value;
  if (Array.isArray(value)) return value.map(textOf).join('');
  if (value && typeof value === 'object') {
    const n = value as TextNode;
    if (n.type === 'text' || n.type === 'cdata') return String(n.text ?? '');
    if (Array.isArray(n.elements)) return textOf(n.elements);
  }
  return '';
}

/** Parses an HTTP date (RFC 1123) as sent in getlastmodified / Win32LastModifiedTime. */
export function parseHttpDate(s: string): Date {
  const d = new Date(s.trim());
  if (Number.isNaN(d.getTime())) throw new FsError('InvalidPath', 'invalid date');
  return d;
}

export class DavPropertyManager implements v2.IPropertyManager {
  constructor(private readonly state: UserDavState, private readonly ops: FileOps, private readonly vpath: string) {}

  setProperty(name: string, value: v2.ResourcePropertyValue, attributes: v2.PropertyAttributes, cb: v2.SimpleCallback): void {
    if (name === WIN32_MTIME) {
      let mtime: Date;
      try {
        mtime = parseHttpDate(textOf(value));
      } catch (e) {
        cb(toDavError(e));
        return;
      }
      this.ops.setStat(this.vpath, { mtime }).then(() => cb(), (e: unknown) => cb(toDavError(e)));
      return;
    }
    const bag = { ...this.state.propsAt(this.vpath) };
    bag[name] = { value, attributes };
    this.state.setProps(this.vpath, bag);
    cb();
  }

  getProperty(name: string, cb: v2.Return2Callback<v2.ResourcePropertyValue, v2.PropertyAttributes>): void {
    const p = this.state.propsAt(this.vpath)[name];
    if (!p) cb(v2.Errors.PropertyNotFound);
    else cb(undefined, p.value, p.attributes);
  }

  removeProperty(name: string, cb: v2.SimpleCallback): void {
    const bag = { ...this.state.propsAt(this.vpath) };
    delete bag[name];
    this.state.setProps(this.vpath, bag);
    cb();
  }

  getProperties(cb: v2.ReturnCallback<v2.PropertyBag>, byCopy?: boolean): void {
    const bag = this.state.propsAt(this.vpath);
    cb(undefined, byCopy ? structuredClone(bag) : bag);
  }
}
