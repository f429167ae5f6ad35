/**
 * Loading optional modules by path (used by tests while layers land). The
 * composition root now imports every layer statically.
 */
import * as path from 'node:path';

/** The real data provider entry point: openDataProvider({ config: data_provider section, configDir, logger, migrate }). */
export type DataProviderModule = Pick<typeof import('../dataprovider/index'), 'openDataProvider'>;

/**
 * Loads `src/<rel>` (compiled sibling) if it exists and exports `fn`.
 * A module that exists but fails to load is a real error and propagates.
 */
export async function loadOptional<T>(rel: string, fn: string): Promise<T | undefined> {
  const spec = path.join(__dirname, '..', rel);
  try {
    require.resolve(spec);
  } catch {
    return undefined;
  }
  const mod = (await import(spec)) as Record<string, unknown>;
  return typeof mod[fn] === 'function' ? (mod as T) : undefined;
}

export async function loadRequired<T>(rel: string, fn: string): Promise<T> {
  const mod = await loadOptional<T>(rel, fn);
  if (!mod) throw new Error(`this build has no ${fn} (src/${rel}.ts)`);
  return mod;
}
