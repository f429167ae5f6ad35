/**
 * Route schemas compiled on a route's first request instead of at start-up.
 *
 * Why: Fastify compiles every route's JSON schema (ajv validators, fast-json-
 * stringify serializers) when the routes are registered. With the REST API,
 * the web admin and the web client that is most of the HTTP server's start-up
 * CPU (a CPU profile of `serve`: ajv ~460 ms, fast-json-stringify ~70 ms, of
 * ~1.3 s), paid by every daemon start, every worker and every test that starts
 * the server, for routes most processes never call. Each route here gets a
 * function that compiles its schema the first time it is called and keeps the
 * result; the compilers themselves are Fastify's defaults with the same
 * options, so validation and serialization are unchanged. One compiler pool
 * per process: several HTTP bindings (or test servers) share compiled schemas.
 *
 * A schema that does not compile therefore fails on its route's first request
 * (a 500) rather than at start-up: each app's `compilePendingSchemas()`
 * compiles every one registered on it at once, and
 * test/e2e/httpd/lazy-schemas.test.ts runs it over the whole application so a
 * broken schema fails the tests.
 */
import type { FastifyServerOptions } from 'fastify';
import { lazy } from '../util/lazy';

type CompilersFactory = NonNullable<NonNullable<FastifyServerOptions['schemaController']>['compilersFactory']>;

/** What Fastify hands a validator compiler for one part of one route (its runtime shape). */
interface ValidatorRoute {
  schema: unknown;
  method: string;
  url: string;
  httpPart: string;
  contentType?: string;
}

/** An ajv validate function as Fastify calls it: (data, dataCxt?) with `errors` and `schemaEnv` read after. */
interface ValidateFn {
  (data: unknown, dataCxt?: unknown): unknown;
  errors?: unknown;
  schemaEnv?: unknown;
}

type ValidatorCompiler = (route: ValidatorRoute) => ValidateFn;
type ValidatorBuilder = (externalSchemas: unknown, options: unknown) => ValidatorCompiler;
type Serializer = (doc: unknown) => string;
type SerializerCompiler = (route: { method: string; url: string; httpStatus: string; schema?: unknown }) => Serializer;
type SerializerBuilder = (externalSchemas: unknown, options: unknown) => SerializerCompiler;

/** Compilations registered on one app and not yet done (each drops itself once done). */
type Pending = Set<() => void>;

/** `build` run on the first call of the returned getter (kept after), registered in `pending` until then. */
function compileOnFirstUse<T>(pending: Pending, build: () => T): () => T {
  const get = lazy(() => {
    const compiled = build();
    pending.delete(force);
    return compiled;
  });
  const force = (): void => { get(); };
  pending.add(force);
  return get;
}

function lazyValidator(pending: Pending, route: ValidatorRoute, compile: ValidatorCompiler): ValidateFn {
  let fn: ValidateFn | undefined;
  const get = compileOnFirstUse(pending, () => (fn = compile(route)));
  const wrapper = ((data: unknown, dataCxt?: unknown) => (dataCxt === undefined ? get()(data) : get()(data, dataCxt))) as ValidateFn;
  // Fastify reads `schemaEnv` just before the call (to pass ajv's data context) and `errors` just after it
  Object.defineProperty(wrapper, 'schemaEnv', { get: () => get().schemaEnv });
  Object.defineProperty(wrapper, 'errors', { get: () => fn?.errors ?? null });
  return wrapper;
}

function lazySerializer(pending: Pending, route: Parameters<SerializerCompiler>[0], compile: SerializerCompiler): Serializer {
  const get = compileOnFirstUse(pending, () => compile(route));
  return (doc: unknown) => get()(doc);
}

// the compilers (ajv, fast-json-stringify) load with the first schema compiled, not at start-up
const validatorPool = lazy(() => (require('@fastify/ajv-compiler') as () => ValidatorBuilder)());
const serializerPool = lazy(() => (require('@fastify/fast-json-stringify-compiler') as () => SerializerBuilder)());

export interface LazySchemaCompilers {
  /** Fastify's `schemaController.compilersFactory` option */
  compilersFactory: CompilersFactory;
  /** compiles every schema registered and not compiled yet; returns how many; throws the first compile error */
  compilePendingSchemas(): number;
}

/** Compilers for one Fastify instance (the compiled schemas themselves are shared by the process's pool). */
export function createLazySchemaCompilers(): LazySchemaCompilers {
  const pending: Pending = new Set();
  const buildValidator: ValidatorBuilder = (externalSchemas, options) => {
    const compile = lazy(() => validatorPool()(externalSchemas, options));
    return (route) => {
      // Fastify lower-cases header schemas itself only for its default compiler; no route has one: refuse
      // rather than validate headers case-sensitively
      if (route.httpPart === 'headers') {
        throw new Error(`${route.method} ${route.url}: header schemas are not supported (src/httpd/lazy-schemas.ts)`);
      }
      return lazyValidator(pending, route, (r) => compile()(r));
    };
  };
  const buildSerializer: SerializerBuilder = (externalSchemas, options) => {
    const compile = lazy(() => serializerPool()(externalSchemas, options));
    return (route) => lazySerializer(pending, route, (r) => compile()(r));
  };
  return {
    compilersFactory: {
      buildValidator: buildValidator as unknown as CompilersFactory['buildValidator'],
      buildSerializer: buildSerializer as unknown as CompilersFactory['buildSerializer'],
    },
    compilePendingSchemas() {
      const todo = [...pending];
      for (const force of todo) force();
      return todo.length;
    },
  };
}
