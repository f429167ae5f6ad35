/**
 * httpd.bindings[].branding.web_admin / web_client (SFTPGo's keys): the UI's
 * name and short name, favicon, logo, a disclaimer link, CSS replacing the
 * default one and extra CSS. Paths are relative to static_files_path and
 * served under <web_root>/static (a disclaimer may also be an http(s) URL).
 * A path that names no servable file is refused at start-up, naming the key.
 */
import type { BrandingConfig } from '../../config/types-ops';
import { staticFileExists } from './assets';

export interface Brand {
  name: string;
  shortName: string;
  faviconUrl: string;
  /** '' = the built-in logo */
  logoUrl: string;
  disclaimerName: string;
  /** '' = no disclaimer link */
  disclaimerUrl: string;
  /** the stylesheets of every page, in order: the default (or its replacement), then the extra ones */
  css: string[];
}

export interface BrandDefaults { name: string; shortName: string; favicon: string; css: string[] }

export function brandOf(cfg: BrandingConfig | undefined, defaults: BrandDefaults, where: string, webRoot: string, staticRoots: string[]): Brand {
  const url = (key: keyof BrandingConfig, p: string): string => {
    const rel = p.startsWith('/') ? p : `/${p}`;
    if (!staticFileExists(staticRoots, rel)) throw new Error(`${where}.${key}: "${p}" is not a servable file under static_files_path`);
    return `${webRoot}/static${rel}`;
  };
  const b: BrandingConfig = cfg ?? { name: '', short_name: '', favicon_path: '', logo_path: '', disclaimer_name: '', disclaimer_path: '', default_css: [], extra_css: [] };
  const disclaimer = b.disclaimer_path.trim();
  const external = /^https?:\/\//i.test(disclaimer);
  if (disclaimer !== '' && !external && /^[a-z][a-z0-9+.-]*:/i.test(disclaimer)) throw new Error(`${where}.disclaimer_path: only http(s) URLs or paths under static_files_path`);
  const defaultCss = b.default_css.length > 0 ? b.default_css.map((p) => url('default_css', p)) : defaults.css.map((p) => `${webRoot}${p}`);
  return {
    name: b.name || defaults.name,
    shortName: b.short_name || b.name || defaults.shortName,
    faviconUrl: b.favicon_path ? url('favicon_path', b.favicon_path) : `${webRoot}${defaults.favicon}`,
    logoUrl: b.logo_path ? url('logo_path', b.logo_path) : '',
    disclaimerName: b.disclaimer_name || 'Disclaimer',
    disclaimerUrl: disclaimer === '' ? '' : external ? disclaimer : url('disclaimer_path', disclaimer),
    css: [...defaultCss, ...b.extra_css.map((p) => url('extra_css', p))],
  };
}
