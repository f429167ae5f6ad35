/** Content-Type by file extension (config `webdavd.cache.mime_types.custom_mappings` first). */
import { extname } from 'node:path/posix';

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
  return custom?.get(ext) ?? TYPES[ext] ?? 'application/octet-stream';
}

/** Builds the custom map from config entries (`ext` with or without the leading dot). */
export function customMimeMap(entries: readonly { ext: string; mime: string }[]): Map<string, string> {
  return new Map(entries.map((e) => [(e.ext.startsWith('.') ? e.ext : `.${e.ext}`).toLowerCase(), e.mime]));
}
