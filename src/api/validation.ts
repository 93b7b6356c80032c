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

/**
 * Where in a parsed request part the first unstorable text is (a value or a key), or null. A walk
 * with its own stack: a body nested thousands deep is valid JSON, and must not overflow the call stack.
 */
function unstorableAt(value: unknown, at: string): string | null {
  const todo: [unknown, string][] = [[value, at]];
  for (let next = todo.pop(); next !== undefined; next = todo.pop()) {
    const [v, where] = next;
    if (typeof v === 'string') {
      if (UNSTORABLE.test(v)) return where;
      continue;
    }
    if (v === null || typeof v !== 'object') continue;
    // Image content arrives as a stream (or bytes), read by its route.
    if (Buffer.isBuffer(v) || typeof (v as { pipe?: unknown }).pipe === 'function') continue;
    const entries = Object.entries(v);
    for (const [key] of entries) if (UNSTORABLE.test(key)) return `${where}.${key.replace(UNSTORABLE, '?')}`;
    // Reversed onto the stack, so that the first field is looked at first.
    for (let i = entries.length - 1; i >= 0; i--) todo.push([entries[i][1], `${where}.${entries[i][0]}`]);
  }
  return null;
}
