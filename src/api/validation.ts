import { Ajv } from 'ajv';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { invalidRequest } from './errors.ts';
import { UNSTORABLE_CHARACTER } from './limits.ts';

const UNSTORABLE = new RegExp(UNSTORABLE_CHARACTER, 'u');

/**
 * Request validation from the same schemas as the OpenAPI document. A JSON body is taken exactly
 * as sent: "2" is not 2, true is not 1, ["exact"] is not "exact" and null is not 0 (coercing them
 * let `"duration": "Infinity"` through as a number). Query strings and path parameters are text by
 * nature and are read as the types their schemas name.
 *
 * Before any schema, text no store can hold (NUL, half of a surrogate pair) is refused wherever it
 * comes, naming where: a route whose schema forgot it must not hand it to PostgreSQL, which fails
 * the lookup or the write (a 503, as if the store were down).
 */
export function installValidation(app: FastifyInstance): void {
  const options = { useDefaults: true, removeAdditional: false, allErrors: false, strict: false } as const;
  const exact = new Ajv({ ...options, coerceTypes: false });
  const fromText = new Ajv({ ...options, coerceTypes: 'array' });
  app.setValidatorCompiler(({ schema, httpPart }) => (httpPart === 'body' ? exact : fromText).compile(schema));
  app.addHook('preValidation', async (req: FastifyRequest) => {
    for (const [part, value] of [['params', req.params], ['querystring', req.query], ['body', req.body]] as const) {
      const where = unstorableAt(value, part);
      if (where !== null) throw invalidRequest(where, 'holds a NUL or half of a surrogate pair, which no name or text the service keeps may hold: remove it');
    }
  });
}

/** Where in a parsed request part the first unstorable text is (a value or a key), or null. */
function unstorableAt(value: unknown, at: string): string | null {
  if (typeof value === 'string') return UNSTORABLE.test(value) ? at : null;
  if (value === null || typeof value !== 'object') return null;
  // Image content arrives as a stream (or bytes), read by its route.
  if (Buffer.isBuffer(value) || typeof (value as { pipe?: unknown }).pipe === 'function') return null;
  for (const [key, inner] of Object.entries(value)) {
    if (UNSTORABLE.test(key)) return `${at}.${key.replace(UNSTORABLE, '?')}`;
    const found = unstorableAt(inner, `${at}.${key}`);
    if (found !== null) return found;
  }
  return null;
}
