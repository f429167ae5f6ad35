/**
 * A small namespace-aware XML layer for WebDAV bodies (PROPFIND, PROPPATCH,
 * LOCK). The library's parser joins namespace and local name into one string
 * ("http://x/ns/" + "p" → "http://x/ns/p"), which cannot be split back
 * reliably; here every element keeps its namespace URI and local name apart,
 * and values are re-serialized with their own namespace declarations so they
 * stay valid wherever they are embedded.
 */
import sax from 'sax';

export const DAV_NS = 'DAV:';
const XMLNS_NS = 'http://www.w3.org/2000/xmlns/';
const XML_NS = 'http://www.w3.org/XML/1998/namespace';

export interface XAttr { ns: string; local: string; value: string }
export interface XElem { ns: string; local: string; attrs: XAttr[]; children: XNode[] }
export type XNode = XElem | string;

export const isElem = (n: XNode): n is XElem => typeof n !== 'string';

/** Element children of `el`, optionally only those named {ns}local. */
export function childElems(el: XElem, ns?: string, local?: string): XElem[] {
  return el.children.filter(isElem).filter((c) => (ns === undefined || c.ns === ns) && (local === undefined || c.local === local));
}

export function textOf(el: XElem): string {
  return el.children.map((c) => (typeof c === 'string' ? c : textOf(c))).join('');
}

/** Parses a document; throws on anything not well-formed (unbound prefixes included). */
export function parseXml(text: string): XElem {
  const parser = sax.parser(true, { xmlns: true, position: false });
  const stack: XElem[] = [];
  let root: XElem | undefined;
  let failure: Error | undefined;
  parser.onerror = (e) => {
    failure ??= e;
    // keep going so write() does not throw; the first error decides
    parser.resume();
  };
  parser.onopentag = (tag) => {
    if (!('uri' in tag)) return;
    const attrs: XAttr[] = [];
    for (const a of Object.values(tag.attributes)) {
      if (typeof a === 'string') continue;
      if (a.uri === XMLNS_NS || a.name === 'xmlns') {
        // XML Namespaces 1.0: a prefix cannot be un-declared (xmlns:p="")
        if (a.prefix === 'xmlns' && a.local !== '' && a.value === '') failure ??= new Error(`empty namespace for prefix ${a.local}`);
        continue;
      }
      attrs.push({ ns: a.uri, local: a.local, value: a.value });
    }
    const el: XElem = { ns: tag.uri, local: tag.local, attrs, children: [] };
    if (tag.prefix && !tag.uri) failure ??= new Error(`unbound prefix ${tag.prefix}`);
    const parent = stack[stack.length - 1];
    if (parent) parent.children.push(el);
    else if (!root) root = el;
    else failure ??= new Error('more than one root element');
    stack.push(el);
  };
  parser.onclosetag = () => { stack.pop(); };
  const onText = (t: string): void => {
    const parent = stack[stack.length - 1];
    if (parent) parent.children.push(t);
    else if (t.trim() !== '') failure ??= new Error('text outside the root element');
  };
  parser.ontext = onText;
  parser.oncdata = onText;
  parser.write(text).close();
  if (failure) throw failure;
  if (!root) throw new Error('empty document');
  return root;
}

export const escText = (s: string): string => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
export const escAttr = (s: string): string =>
  escText(s).replace(/"/g, '&quot;').replace(/\r/g, '&#13;').replace(/\n/g, '&#10;').replace(/\t/g, '&#9;');

/**
 * Serializes an element so it is self-contained: it (and any descendant whose
 * namespace differs from its parent's) declares its namespace as the default
 * one, and namespaced attributes get generated prefixes. `inheritedDefault`
 * is the default namespace in force where the output will be placed.
 */
export function serialize(el: XElem, inheritedDefault = ''): string {
  let out = `<${el.local}`;
  if (el.ns !== inheritedDefault) out += ` xmlns="${escAttr(el.ns)}"`;
  let n = 0;
  for (const a of el.attrs) {
    if (a.ns === '') out += ` ${a.local}="${escAttr(a.value)}"`;
    else if (a.ns === XML_NS) out += ` xml:${a.local}="${escAttr(a.value)}"`;
    else {
      const p = `a${n++}`;
      out += ` xmlns:${p}="${escAttr(a.ns)}" ${p}:${a.local}="${escAttr(a.value)}"`;
    }
  }
  if (el.children.length === 0) return `${out}/>`;
  return `${out}>${serializeChildren(el.children, el.ns)}</${el.local}>`;
}

export function serializeChildren(children: XNode[], inheritedDefault = ''): string {
  return children.map((c) => (typeof c === 'string' ? escText(c) : serialize(c, inheritedDefault))).join('');
}

/** An empty element named {ns}local, for property names in multistatus output (DAV: uses the D prefix). */
export function emptyElem(ns: string, local: string): string {
  return ns === DAV_NS ? `<D:${local}/>` : `<${local} xmlns="${escAttr(ns)}"/>`;
}

export const XML_HEAD = '<?xml version="1.0" encoding="utf-8"?>\n';
