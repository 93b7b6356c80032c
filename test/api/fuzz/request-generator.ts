// Requests for every operation of the OpenAPI document, by every role: path parameters that name
// what exists (someone's lease, a node, a user) or junk, bodies from the operation's schema, valid
// or mutated, odd URLs and headers; and, between them, valid leases of every kind and the clock
// moving on, so that the service has leases to refuse things about.

import fc from 'fast-check';
import { type Body, BAD_AUTHORIZATIONS, BODY_MUTATIONS, hugeBody, IDEMPOTENCY_KEYS, JUNK_PARAMS, URL_MUTATIONS } from './mutations.ts';
import { type Placeholder, type Pool, type Schema, type SchemaContext, valueArb } from './schema-arbitraries.ts';

export const ROLES = ['anonymous', 'bad-token', 'alice', 'bob', 'carol', 'admin'] as const;
export type Role = (typeof ROLES)[number];

export interface Operation {
  method: string;
  /** The document's path, with {params}. */
  path: string;
  role: 'public' | 'user' | 'admin';
  params: string[];
  query: Record<string, Schema>;
  body: Schema | null;
}

/** How a body is made: valid from the schema, then perhaps mutated (its name, for the tally). */
export type BodyPlan = { body: Body; mutation: string | null };

export interface FuzzRequest {
  op: Operation;
  role: Role;
  /** A placeholder (something that exists, encoded when sent) or junk URL text. */
  params: Record<string, Placeholder | { junk: string }>;
  query: Record<string, unknown>;
  body: BodyPlan;
  urlMutation: number | null;
  authorization: string | null;
  idempotencyKey: string | null;
}

/** What else the stream does: the clock moves on, or a valid lease of a kind is asked for. */
export type Step =
  | { type: 'request'; request: FuzzRequest }
  | { type: 'advance'; seconds: number }
  | { type: 'lease'; kind: LeaseKindName; who: 'alice' | 'bob' | 'carol'; hold: boolean; shared: boolean; nodes: number; duration: number; offset: number; image: number | null; cluster?: boolean }
  | { type: 'flow'; flow: Flow; who: 'alice' | 'bob' | 'carol'; n: number };

/**
 * Valid sequences that random requests almost never hit: a hold its owner commits, an image
 * registered, uploaded and read back, a running lease an administrator moves. Without them those
 * routes would be tested on their refusals only.
 */
export const FLOWS = ['hold-commit', 'image-round-trip', 'migrate'] as const;
export type Flow = (typeof FLOWS)[number];

export type LeaseKindName = 'best-effort' | 'immediate' | 'exact' | 'urgent' | 'deadline' | 'periodic';

/** The operations of an OpenAPI document, with their bodies' schemas. */
export function operationsOf(doc: Schema): Operation[] {
  const ops: Operation[] = [];
  for (const [path, methods] of Object.entries(doc.paths as Record<string, Record<string, Schema>>)) {
    for (const [method, op] of Object.entries(methods)) {
      const parameters = (op.parameters ?? []) as { name: string; in: string; schema: Schema }[];
      ops.push({
        method: method.toUpperCase(), path, role: op['x-vws-role'],
        params: parameters.filter((p) => p.in === 'path').map((p) => p.name),
        query: Object.fromEntries(parameters.filter((p) => p.in === 'query').map((p) => [p.name, p.schema])),
        body: op.requestBody?.content?.['application/json']?.schema ?? null,
      });
    }
  }
  return ops;
}

/** What a path parameter names, from the segment before it: /leases/{id} a lease, /users/{id} a user... */
export function poolOf(path: string, param: string): Pool | 'index' {
  const segments = path.split('/');
  const before = segments[segments.indexOf(`{${param}}`) - 1];
  const pools: Record<string, Pool | 'index'> = { leases: 'lease', workspaces: 'index', nodes: 'node', users: 'user', members: 'user', tokens: 'token', images: 'image', groups: 'group' };
  return pools[before] ?? 'user';
}

function paramArb(op: Operation, param: string): fc.Arbitrary<Placeholder | { junk: string }> {
  const pool = poolOf(op.path, param);
  const junk = fc.constantFrom(...JUNK_PARAMS).map((j) => ({ junk: j }));
  const named: fc.Arbitrary<Placeholder | { junk: string }> = pool === 'index'
    ? fc.integer({ min: 0, max: 3 }).map((i) => ({ junk: String(i) }))
    : pool === 'lease'
      ? fc.oneof({ weight: 4, arbitrary: fc.nat(1000).map((n) => ({ $pick: 'lease' as const, n })) }, fc.nat(1000).map((n) => ({ $pick: 'occurrence' as const, n })))
      : fc.nat(1000).map((n) => ({ $pick: pool, n }));
  return fc.oneof({ weight: 5, arbitrary: named }, { weight: 1, arbitrary: junk });
}

/** Mostly a role the operation is for, often another one: refusals are half of what is tested. */
function roleArb(op: Operation): fc.Arbitrary<Role> {
  const fitting: Role[] = op.role === 'admin' ? ['admin'] : op.role === 'public' ? ['anonymous'] : ['alice', 'bob', 'carol', 'admin'];
  return fc.oneof({ weight: 3, arbitrary: fc.constantFrom(...fitting) }, { weight: 2, arbitrary: fc.constantFrom(...ROLES) });
}

function bodyArb(op: Operation, ctx: SchemaContext): fc.Arbitrary<BodyPlan> {
  const isGetLike = op.method === 'GET' || op.method === 'DELETE';
  if (op.body === null) {
    // Image content goes as bytes; a body elsewhere is one the route does not take.
    if (op.method === 'PUT') return fc.nat(7).map((n) => ({ body: { kind: 'raw', payload: Buffer.from(`content ${n % 4}`), contentType: n < 6 ? 'application/octet-stream' : 'application/json' }, mutation: n < 6 ? null : 'wrong-content-type' }));
    return fc.oneof(
      { weight: 6, arbitrary: fc.constant<BodyPlan>({ body: { kind: 'none' }, mutation: null }) },
      { weight: 1, arbitrary: fc.constantFrom<BodyPlan>({ body: { kind: 'json', value: { x: 1 } }, mutation: isGetLike ? 'body-on-get' : 'unexpected-body' }, { body: { kind: 'raw', payload: 'not json', contentType: 'application/json' }, mutation: 'malformed-json' }) },
    );
  }
  const valid = valueArb(op.body, ctx);
  return fc.tuple(valid, fc.nat(99), fc.nat(1_000_000)).map(([value, roll, index]): BodyPlan => {
    if (roll < 55) return { body: { kind: 'json', value }, mutation: null };
    // About one request in 700 carries a body past 1 MiB: the limit is tested without most requests being huge.
    if (roll === 99 && index % 7 === 0) return { body: hugeBody(value, index), mutation: 'huge-string' };
    const m = BODY_MUTATIONS[index % BODY_MUTATIONS.length];
    return { body: m.apply(value, index >> 4), mutation: m.name };
  });
}

function queryArb(op: Operation, ctx: SchemaContext): fc.Arbitrary<Record<string, unknown>> {
  const names = Object.keys(op.query);
  if (names.length === 0) return fc.constant({});
  return fc.record(Object.fromEntries(names.map((n) => [n, valueArb(op.query[n], ctx, n)])), { requiredKeys: [] });
}

/** `arb` in `yes` draws of `yes + no`, else null. */
const sometimes = <T>(yes: number, no: number, arb: fc.Arbitrary<T>): fc.Arbitrary<T | null> => fc.oneof({ weight: no, arbitrary: fc.constant(null) }, { weight: yes, arbitrary: arb });

export function requestArb(op: Operation, ctx: SchemaContext): fc.Arbitrary<FuzzRequest> {
  return fc.record({
    op: fc.constant(op),
    role: roleArb(op),
    params: fc.record(Object.fromEntries(op.params.map((p) => [p, paramArb(op, p)]))) as fc.Arbitrary<FuzzRequest['params']>,
    query: queryArb(op, ctx),
    body: bodyArb(op, ctx),
    urlMutation: sometimes(1, 9, fc.nat(URL_MUTATIONS.length - 1)),
    authorization: fc.constantFrom(...BAD_AUTHORIZATIONS),
    idempotencyKey: sometimes(1, 4, fc.constantFrom(...IDEMPOTENCY_KEYS)).map((k) => (op.method === 'POST' ? k : null)),
  });
}

const leaseStep: fc.Arbitrary<Step> = fc.record({
  type: fc.constant('lease' as const),
  kind: fc.constantFrom<LeaseKindName>('best-effort', 'best-effort', 'immediate', 'exact', 'urgent', 'deadline', 'periodic'),
  who: fc.constantFrom('alice' as const, 'bob' as const, 'carol' as const),
  hold: fc.nat(9).map((n) => n < 3),
  shared: fc.boolean(), nodes: fc.integer({ min: 1, max: 2 }), duration: fc.integer({ min: 60, max: 5400 }),
  offset: fc.integer({ min: 60, max: 4 * 3600 }), image: sometimes(1, 2, fc.nat(10)),
  // One valid lease in four is a cluster (a head and `nodes` workers), with user-data and a key.
  cluster: fc.nat(3).map((n) => n === 0),
});

/** The stream: every operation alike (so every one is met often), valid leases, and the clock. */
export function stepArb(ops: Operation[], ctx: SchemaContext): fc.Arbitrary<Step> {
  const requests = fc.oneof(...ops.map((op) => requestArb(op, ctx))).map((request): Step => ({ type: 'request', request }));
  return fc.oneof(
    { weight: 85, arbitrary: requests },
    { weight: 12, arbitrary: leaseStep },
    { weight: 2, arbitrary: fc.record({ type: fc.constant('flow' as const), flow: fc.constantFrom(...FLOWS), who: fc.constantFrom('alice' as const, 'bob' as const, 'carol' as const), n: fc.nat(1_000_000) }) },
    { weight: 3, arbitrary: fc.integer({ min: 1, max: 1800 }).map((seconds): Step => ({ type: 'advance', seconds })) },
  );
}
