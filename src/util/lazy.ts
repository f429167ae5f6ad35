/**
 * Heavy optional dependencies (cloud SDKs, database drivers, gRPC, mail,
 * LDAP, QR codes, the WebDAV server) are loaded on first use, not when the
 * process starts: every `sftpgo` process (CLI commands, test daemons,
 * workers) would otherwise parse ~1700 modules it mostly never calls.
 *
 * Use it with a literal require so the type stays the module's own:
 *   const s3Sdk = lazy(() => require('@aws-sdk/client-s3') as typeof import('@aws-sdk/client-s3'));
 *   new (s3Sdk().PutObjectCommand)(...)
 * Type-only imports (`import type`) cost nothing at run time and stay as they are.
 * The memo holds a module, as require's own cache does: no application state.
 */

/** A loader that runs `load` once, on the first call, and returns the same value after. A failed load is retried on the next call. */
export function lazy<T>(load: () => T): () => T {
  let loaded: { value: T } | undefined;
  return (): T => {
    if (loaded === undefined) loaded = { value: load() };
    return loaded.value;
  };
}
