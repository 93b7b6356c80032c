import { Ajv } from 'ajv';
import type { FastifyInstance } from 'fastify';

/**
 * Request validation from the same schemas as the OpenAPI document. A JSON body is taken exactly
 * as sent: "2" is not 2, true is not 1, ["exact"] is not "exact" and null is not 0 (coercing them
 * let `"duration": "Infinity"` through as a number). Query strings and path parameters are text by
 * nature and are read as the types their schemas name.
 */
export function installValidation(app: FastifyInstance): void {
  const options = { useDefaults: true, removeAdditional: false, allErrors: false, strict: false } as const;
  const exact = new Ajv({ ...options, coerceTypes: false });
  const fromText = new Ajv({ ...options, coerceTypes: 'array' });
  app.setValidatorCompiler(({ schema, httpPart }) => (httpPart === 'body' ? exact : fromText).compile(schema));
}
