// Values a JSON Schema of the OpenAPI document accepts, as fast-check arbitraries: the fuzz reads
// the document the server serves, so a route or field added later is fuzzed without touching it.
// What the API's schemas use is handled: $ref, anyOf, const, enum, object (properties, required,
// additionalProperties), string (pattern, minLength, maxLength), integer and number (minimum,
// maximum, exclusiveMinimum), boolean, null, array (items, minItems, maxItems).
//
// A field that names something (an image, a user, a node) or an instant gets, besides values from
// its schema, a placeholder resolved when the request is sent (see Placeholder): the things that
// exist then, and instants around the clock's now, so that valid requests reach the service.

import fc from 'fast-check';
import { headRole, KEY_LINES, workerRole } from '../cluster-body.ts';

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- JSON Schema, read as the document gives it
export type Schema = any;

/** What a placeholder stands for, resolved against the world when the request is sent. */
export type Pool = 'lease' | 'occurrence' | 'image' | 'user' | 'group' | 'node' | 'token' | 'sha256';

/** The n-th thing of a pool (modulo its size), or the clock's now plus `offset` seconds. */
export type Placeholder = { $pick: Pool; n: number } | { $now: number };

const POOLS: readonly string[] = ['lease', 'occurrence', 'image', 'user', 'group', 'node', 'token', 'sha256'];

/** A placeholder as made here: a mutation that changed one of its fields leaves an ordinary object, sent as it is. */
export function isPlaceholder(v: unknown): v is Placeholder {
  if (v === null || typeof v !== 'object' || Array.isArray(v)) return false;
  const o = v as Record<string, unknown>;
  const keys = Object.keys(o).sort().join();
  if (keys === '$now') return Number.isSafeInteger(o.$now);
  return keys === '$pick,n' && POOLS.includes(o.$pick as string) && Number.isSafeInteger(o.n) && (o.n as number) >= 0;
}

const pick = (pool: Pool): fc.Arbitrary<Placeholder> => fc.nat(1000).map((n) => ({ $pick: pool, n }));
const soon = fc.integer({ min: -600, max: 4 * 3600 }).map((offset) => ({ $now: offset }));

/** Fields whose meaning the schema does not say: what they name, by the field's name. */
const NAMED: Record<string, fc.Arbitrary<unknown>> = {
  image: pick('image'), kernel: pick('image'), initrd: pick('image'),
  user: pick('user'), owner: pick('user'), group: fc.oneof(fc.constant('lab'), pick('group')), sha256: pick('sha256'),
  start: soon, deadline: soon.map((p) => ({ $now: p.$now + 3600 })), until: soon.map((p) => ({ $now: p.$now + 7200 })),
  // Small leases fit the pool; the schema's whole range is still drawn half of the time.
  nodes: fc.integer({ min: 1, max: 3 }), duration: fc.integer({ min: 60, max: 7200 }), cpu: fc.constantFrom(0.5, 1), memoryMiB: fc.constantFrom(256, 512, 1024),
  period: fc.integer({ min: 600, max: 7200 }), count: fc.integer({ min: 1, max: 4 }), ttl: fc.integer({ min: 1, max: 3600 }),
};

/** Items of a named array field: roles that can make a cluster (random ones almost never meet checkRoles), keys in their wire form. */
const NAMED_ITEMS: Record<string, fc.Arbitrary<unknown>> = {
  nodes: pick('node'),
  roles: fc.constantFrom(headRole(), headRole({ name: 'db', provides: [] }), workerRole({ requires: ['head.ip'] }), workerRole({ count: 1, cpu: 1, memoryMiB: 1024, requires: [] })),
  requires: fc.constantFrom('head.ip', 'head.host-key', 'head.nfs-export', 'db.hostname'),
  sshPublicKeys: fc.constantFrom(...KEY_LINES),
};

export interface SchemaContext {
  /** The document's components, for $ref. */
  components: Record<string, Schema>;
}

function resolveRef(schema: Schema, ctx: SchemaContext): Schema {
  if (typeof schema?.$ref !== 'string') return schema;
  const name = schema.$ref.replace('#/components/schemas/', '');
  return ctx.components[name] ?? {};
}

function integerArb(s: Schema): fc.Arbitrary<number> {
  const min = s.exclusiveMinimum !== undefined ? s.exclusiveMinimum + 1 : (s.minimum ?? Number.MIN_SAFE_INTEGER);
  const max = s.exclusiveMaximum !== undefined ? s.exclusiveMaximum - 1 : (s.maximum ?? Number.MAX_SAFE_INTEGER);
  return fc.integer({ min: Math.max(min, Number.MIN_SAFE_INTEGER), max: Math.min(max, Number.MAX_SAFE_INTEGER) });
}

function numberArb(s: Schema): fc.Arbitrary<number> {
  const min = s.exclusiveMinimum ?? s.minimum ?? -1e12;
  const max = s.maximum ?? 1e12;
  return fc.double({ min, max, minExcluded: s.exclusiveMinimum !== undefined, noNaN: true, noDefaultInfinity: true });
}

function stringArb(s: Schema): fc.Arbitrary<string> {
  if (typeof s.pattern === 'string') {
    const min = s.minLength ?? 0;
    const max = s.maxLength ?? Infinity;
    // One character class repeated (a secret's base64url, say): its length bounds go into the
    // pattern itself. Left to the filter, strings drawn at random lengths almost never met an
    // exact length (43), and fast-check's filter draws again for ever.
    const repeated = /^\^(\[(?:[^\]\\]|\\.)+\])[+*]\$$/.exec(s.pattern);
    if (repeated) return fc.stringMatching(new RegExp(`^${repeated[1]}{${Math.max(min, s.pattern.endsWith('+$') ? 1 : 0)},${Number.isFinite(max) ? Math.min(max, Math.max(min, 40)) : Math.max(min, 40)}}$`));
    const re = new RegExp(s.pattern);
    return fc.stringMatching(re).filter((v) => v.length >= min && v.length <= max);
  }
  return fc.string({ minLength: s.minLength ?? 0, maxLength: Math.min(s.maxLength ?? 40, 40), unit: 'grapheme-composite' });
}

/** Valid values of `schema`; `name` is the field's name, for fields that name things. */
export function valueArb(schema: Schema, ctx: SchemaContext, name?: string): fc.Arbitrary<unknown> {
  const s = resolveRef(schema, ctx);
  const own = ownValueArb(s, ctx, name);
  const named = name !== undefined ? NAMED[name] : undefined;
  // Only where the named values are of the schema's kind (an array field named nodes is not a count).
  const fits = named && s.type !== 'array' && s.type !== 'object';
  return fits ? fc.oneof(named, own) : own;
}

function ownValueArb(s: Schema, ctx: SchemaContext, name?: string): fc.Arbitrary<unknown> {
  if (s === true || s === undefined || (typeof s === 'object' && Object.keys(s).length === 0)) return fc.jsonValue({ maxDepth: 2 });
  if ('const' in s) return fc.constant(s.const);
  if (Array.isArray(s.enum)) return fc.constantFrom(...s.enum);
  if (Array.isArray(s.anyOf)) return fc.oneof(...s.anyOf.map((x: Schema) => valueArb(x, ctx, name)));
  if (Array.isArray(s.oneOf)) return fc.oneof(...s.oneOf.map((x: Schema) => valueArb(x, ctx, name)));
  switch (s.type) {
    case 'null': return fc.constant(null);
    case 'boolean': return fc.boolean();
    case 'integer': return integerArb(s);
    case 'number': return numberArb(s);
    case 'string': return stringArb(s);
    case 'array': {
      const items = (name !== undefined && NAMED_ITEMS[name]) ? fc.oneof(NAMED_ITEMS[name], valueArb(s.items ?? {}, ctx)) : valueArb(s.items ?? {}, ctx);
      return fc.array(items, { minLength: s.minItems ?? 0, maxLength: Math.min(s.maxItems ?? 4, 4) });
    }
    case 'object': return objectArb(s, ctx);
    default: return fc.jsonValue({ maxDepth: 2 });
  }
}

function objectArb(s: Schema, ctx: SchemaContext): fc.Arbitrary<Record<string, unknown>> {
  const props: Record<string, Schema> = s.properties ?? {};
  const required: string[] = s.required ?? [];
  const model = Object.fromEntries(Object.entries(props).map(([k, v]) => [k, valueArb(v, ctx, k)]));
  return fc.record(model, { requiredKeys: required.filter((k) => k in props) });
}
