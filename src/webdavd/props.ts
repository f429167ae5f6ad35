/**
 * Dead properties of one path, kept in memory per user as SFTPGo does.
 * The mtime properties (DAV:getlastmodified, Win32LastModifiedTime) never
 * get here: proppatch.ts applies them with FileOps.setStat.
 */
import { v2 } from 'webdav-server';
import { FsError } from '../common/errors';
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
  constructor(private readonly state: UserDavState, private readonly vpath: string) {}

  setProperty(name: string, value: v2.ResourcePropertyValue, attributes: v2.PropertyAttributes, cb: v2.SimpleCallback): void {
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
