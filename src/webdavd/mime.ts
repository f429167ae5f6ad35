/**
 * Content types of served files: by file extension, and for an extension
 * that does not tell, by asking the storage backend (Fs.mimeType: HTTPFs
 * `mimetype`), as SFTPGo's WebDAV ContentType does: custom mappings first,
 * no extension or ".dat" is binary, then the extension table, then the types
 * backends gave for that extension before (SFTPGo's mime type cache), and
 * only then the backend. WebDAV GET and PROPFIND and the REST/web downloads
 * use it; anything the backend cannot answer is application/octet-stream.
 */
import { extname } from 'node:path/posix';
import type { FileOps } from '../common/types';

const OCTET_STREAM = 'application/octet-stream';
/** type "/" subtype, optional parameters; printable ASCII only, as a header value must be */
const MEDIA_TYPE = /^[A-Za-z0-9!#$&^_.+-]+\/[A-Za-z0-9!#$&^_.+-]+(\s*;[\x20-\x7e]*)?$/;
const MAX_MEDIA_TYPE = 255;

const TYPES: Readonly<Record<string, string>> = {
  '.txt': 'text/plain; charset=utf-8', '.html': 'text/html; charset=utf-8', '.htm': 'text/html; charset=utf-8',
  '.css': 'text/css; charset=utf-8', '.csv': 'text/csv; charset=utf-8', '.xml': 'text/xml; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8', '.json': 'application/json', '.pdf': 'application/pdf',
  '.zip': 'application/zip', '.gz': 'application/gzip', '.tar': 'application/x-tar',
  '.png': 'image/png', '.jpg': 'image/jpeg', '.jpeg': 'image/jpeg', '.gif': 'image/gif',
  '.svg': 'image/svg+xml', '.webp': 'image/webp', '.ico': 'image/x-icon',
  '.mp3': 'audio/mpeg', '.mp4': 'video/mp4', '.webm': 'video/webm', '.mkv': 'video/x-matroska',
  '.doc': 'application/msword', '.xls': 'application/vnd.ms-excel',
  '.docx': 'application/vnd.openxmlformats-officedocument.wordprocessingml.document',
  '.xlsx': 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet',
};

export function mimeTypeOf(name: string, custom?: ReadonlyMap<string, string>): string {
  const ext = extname(name).toLowerCase();
  return custom?.get(ext) ?? TYPES[ext] ?? OCTET_STREAM;
}

/** Asks the file's backend; undefined when the backend has no such capability. */
export type BackendTypeLookup = () => Promise<string | undefined>;

/** The lookup of `vpath`'s type through the session (its permission checks apply), when the session offers one. */
export function backendLookup(ops: FileOps, vpath: string): BackendTypeLookup | undefined {
  const lookup = ops.backendMimeType?.bind(ops);
  return lookup ? () => lookup(vpath) : undefined;
}

/** One request's answers by extension, so a listing asks the backend at most once per extension. */
export type TypeMemo = Map<string, Promise<string>>;

export interface ContentTypeOptions {
  /** extension (with the dot, lower case) → type, before anything else */
  custom?: ReadonlyMap<string, string>;
  /** how many backend answers are kept by extension (SFTPGo cache.mime_types.max_size; 0 keeps none) */
  cacheSize?: number;
  /** a backend's failed or unusable answer (the type falls back to the binary one) */
  log?: (msg: string) => void;
}

export class ContentTypes {
  private readonly learned = new Map<string, string>();

  constructor(private readonly o: ContentTypeOptions = {}) {}

  /** The type known from the name alone, or undefined when only the backend could tell. */
  fromName(name: string): string | undefined {
    const ext = extname(name).toLowerCase();
    const custom = this.o.custom?.get(ext);
    if (custom !== undefined) return custom;
    if (ext === '' || ext === '.dat') return OCTET_STREAM;
    return TYPES[ext] ?? this.learned.get(ext);
  }

  /**
   * The type of `name`; `ask` is called only when the name does not tell,
   * at most once per extension for a given `memo`. Never throws.
   */
  async of(name: string, ask: BackendTypeLookup | undefined, memo?: TypeMemo): Promise<string> {
    const known = this.fromName(name);
    if (known !== undefined) return known;
    if (!ask) return OCTET_STREAM;
    const ext = extname(name).toLowerCase();
    const asked = memo?.get(ext);
    if (asked) return asked;
    const answer = this.askBackend(ext, name, ask);
    memo?.set(ext, answer);
    return answer;
  }

  private async askBackend(ext: string, name: string, ask: BackendTypeLookup): Promise<string> {
    let type: string | undefined;
    try {
      type = await ask();
    } catch (e) {
      this.o.log?.(`content type of "${name}": the storage backend did not answer (${e instanceof Error ? e.message : String(e)}), using ${OCTET_STREAM}`);
      return OCTET_STREAM;
    }
    if (type === undefined || type === '') return OCTET_STREAM;
    if (type.length > MAX_MEDIA_TYPE || !MEDIA_TYPE.test(type)) {
      this.o.log?.(`content type of "${name}": the storage backend gave an invalid type ${JSON.stringify(type.slice(0, 80))}, using ${OCTET_STREAM}`);
      return OCTET_STREAM;
    }
    if (this.learned.size < (this.o.cacheSize ?? 0)) this.learned.set(ext, type);
    return type;
  }
}

/** Builds the custom map from config entries (`ext` with or without the leading dot; an empty type is skipped, as SFTPGo). */
export function customMimeMap(entries: readonly { ext: string; mime: string }[]): Map<string, string> {
  return new Map(entries.filter((e) => e.mime !== '').map((e) => [(e.ext.startsWith('.') ? e.ext : `.${e.ext}`).toLowerCase(), e.mime]));
}
