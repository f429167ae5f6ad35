/**
 * Shared JSON schemas. Response schemas double as an allow-list: Fastify's
 * serializer drops every property not declared, so secrets never leave.
 */
export const apiResponseSchema = {
  type: 'object',
  properties: { message: { type: 'string' }, error: { type: 'string' } },
} as const;

/** The error responses every authenticated route may produce. */
export const errorResponses = {
  400: apiResponseSchema,
  401: apiResponseSchema,
  403: apiResponseSchema,
  404: apiResponseSchema,
  500: apiResponseSchema,
} as const;

/** Any JSON object, passed through as is (nested settings objects). */
export const openObject = { type: 'object', additionalProperties: true } as const;

/**
 * Query strings are validated as strings (the validator never coerces types,
 * so a JSON body with `"status": "1"` is rejected) and parsed in the route.
 */
export const intString = { type: 'string', pattern: '^[0-9]{1,15}$' } as const;

export const listQuerySchema = {
  type: 'object',
  properties: {
    offset: intString,
    limit: intString,
    order: { type: 'string', enum: ['ASC', 'DESC'] },
  },
  additionalProperties: false,
} as const;

/**
 * A name in a URL path segment: no separators, no NUL, not "." or "..",
 * so a name can never be used to address something else.
 */
export const namePattern = '^(?!\\.{1,2}$)[^/\\\\\\x00]{1,255}$';
export const nameParam = { type: 'string', pattern: namePattern } as const;

export function paramsFor(name: string) {
  return {
    type: 'object',
    properties: { [name]: nameParam },
    required: [name],
  } as const;
}

export const timestamp = { type: 'integer' } as const;
export const stringArray = { type: 'array', items: { type: 'string' } } as const;
