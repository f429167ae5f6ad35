/**
 * Renders templates/webadmin/*.eta with Eta (auto-escaping on: every `<%= %>`
 * is HTML-escaped, so user-controlled text is inert). Pages get the layout
 * data (admin, CSRF token, flash, navigation) and a few formatting helpers.
 */
import { Eta } from 'eta';
import type { FastifyReply } from 'fastify';
import type { Admin, AdminPermission } from '../../dataprovider/models';
import { hasPermission } from '../types';
import type { Brand } from './branding';

export interface Flash { kind: string; text: string }

export interface PageContext {
  admin?: Admin;
  csrf: string;
  flash?: Flash;
  version: string;
}

const UNITS = ['B', 'KB', 'MB', 'GB', 'TB', 'PB'];

export const helpers = {
  bytes(n: number | undefined): string {
    let v = n ?? 0;
    if (v <= 0) return '0 B';
    let i = 0;
    while (v >= 1024 && i < UNITS.length - 1) { v /= 1024; i++; }
    return `${i === 0 ? v : v.toFixed(v >= 10 ? 0 : 1)} ${UNITS[i]}`;
  },
  date(ms: number | undefined): string {
    if (!ms) return '-';
    return new Date(ms).toISOString().replace('T', ' ').replace(/\.\d{3}Z$/, ' UTC');
  },
  /** yyyy-mm-dd for <input type="date"> */
  dayInput(ms: number | undefined): string {
    return ms ? new Date(ms).toISOString().slice(0, 10) : '';
  },
  since(ms: number | undefined): string {
    if (!ms) return '-';
    const s = Math.max(0, Math.round((Date.now() - ms) / 1000));
    if (s < 60) return `${s}s`;
    if (s < 3600) return `${Math.floor(s / 60)}m ${s % 60}s`;
    return `${Math.floor(s / 3600)}h ${Math.floor((s % 3600) / 60)}m`;
  },
  limit(n: number | undefined, unit = ''): string {
    return n ? `${n}${unit}` : 'unlimited';
  },
  /** a byte count as the shortest exact form input: 52428800 → "50MB", 0 → "" */
  sizeInput(n: number | undefined): string {
    const v = n ?? 0;
    if (v <= 0) return '';
    for (const [unit, mul] of [['TB', 1024 ** 4], ['GB', 1024 ** 3], ['MB', 1024 ** 2], ['KB', 1024]] as const) {
      if (v % mul === 0) return `${v / mul}${unit}`;
    }
    return String(v);
  },
  enc(s: string): string {
    return encodeURIComponent(s);
  },
};

/** What every template of one UI sees as plain variables (layouts and partials alike). */
export interface TemplateGlobals {
  /** httpd.web_root as a prefix ('' or "/a/b"): every link a page writes starts with it */
  webRoot: string;
  brand: Brand;
}

export class Views {
  private readonly eta: Eta;
  constructor(dir: string, private readonly version: string, globals: TemplateGlobals) {
    // JSON is a valid JS expression: the values become constants of every compiled template
    const functionHeader = `const webRoot = ${JSON.stringify(globals.webRoot)}; const brand = ${JSON.stringify(globals.brand)};`;
    this.eta = new Eta({ views: dir, autoEscape: true, cache: true, defaultExtension: '.eta', functionHeader });
  }

  html(name: string, page: PageContext, data: Record<string, unknown>): string {
    const admin = page.admin;
    const can = (p: AdminPermission): boolean => admin !== undefined && hasPermission(admin, [p]);
    return this.eta.render(name, { ...data, page: { ...page, version: this.version }, can, h: helpers });
  }

  send(reply: FastifyReply, name: string, page: Omit<PageContext, 'version'>, data: Record<string, unknown>, status = 200): FastifyReply {
    return reply.code(status).type('text/html; charset=utf-8').send(this.html(name, { ...page, version: this.version }, data));
  }
}
