// What a hostile or careless client sends instead of a valid request: a body whose field has the
// wrong JSON type, a number at or past a bound (or not finite, or a string that reads as one), a
// huge or oddly encoded string, a required field missing, an unknown one, `__proto__`; bytes that
// are not JSON or not UTF-8, another content type, an empty body, a body on a GET; path
// parameters with %00, %2F, broken percent-encoding or thousands of characters; Authorization
// headers of other schemes and Idempotency-Keys of odd sizes. Each mutation has a name, which the
// tally counts.

import fc from 'fast-check';

/** A body as it goes on the wire: JSON (a value, serialised when sent), raw bytes with a type, or none. */
export type Body =
  | { kind: 'json'; value: unknown }
  | { kind: 'raw'; payload: string | Buffer; contentType: string | null }
  | { kind: 'none' };

/** A mutation: its name, and what it does to a valid body (index: which field, modulo their number). */
export interface BodyMutation { name: string; apply(value: unknown, index: number): Body }

const MIB = 1024 * 1024;

/** Paths to every value inside `v` (objects and arrays), the root excluded. */
function leafPaths(v: unknown, at: (string | number)[] = []): (string | number)[][] {
  if (v === null || typeof v !== 'object') return at.length > 0 ? [at] : [];
  const entries = Array.isArray(v) ? v.map((x, i) => [i, x] as const) : Object.entries(v);
  const inner = entries.flatMap(([k, x]) => leafPaths(x, [...at, k]));
  return at.length > 0 ? [at, ...inner] : inner;
}

const clone = (v: unknown): unknown => (v === undefined ? undefined : JSON.parse(JSON.stringify(v)));

/** `v` with the value at the index-th path replaced (or, with no paths, `v` itself replaced). */
function replaced(v: unknown, index: number, by: unknown): unknown {
  const paths = leafPaths(v);
  if (paths.length === 0) return by;
  const path = paths[index % paths.length];
  const out = clone(v) as Record<string | number, unknown>;
  let at = out;
  for (const k of path.slice(0, -1)) at = at[k] as Record<string | number, unknown>;
  at[path[path.length - 1]] = by;
  return out;
}

/** `v` without the key at the index-th object path. */
function without(v: unknown, index: number): unknown {
  const paths = leafPaths(v).filter((p) => typeof p[p.length - 1] === 'string');
  if (paths.length === 0) return {};
  const path = paths[index % paths.length];
  const out = clone(v) as Record<string, unknown>;
  let at = out;
  for (const k of path.slice(0, -1)) at = at[k] as Record<string, unknown>;
  delete at[path[path.length - 1] as string];
  return out;
}

const json = (value: unknown): Body => ({ kind: 'json', value });
const raw = (payload: string | Buffer, contentType: string | null = 'application/json'): Body => ({ kind: 'raw', payload, contentType });

/** Values of the wrong JSON type, or the right type with the wrong meaning. */
export const WRONG_TYPES: unknown[] = ['2', '', true, false, null, [], [1], {}, { a: 1 }, 0, -1, 'exact', ['exact']];
/** Numbers at and past bounds, not finite, or not whole; numbers sent as strings. */
export const BOUNDARY_NUMBERS: unknown[] = [0, -0, -1, 1, 0.5, 1e-300, 2 ** 31, 2 ** 32, 2 ** 53, 2 ** 53 + 2, -(2 ** 53), 1e300, -1e300, 4_102_444_801, 31_622_401, 100_001, 'Infinity', '-Infinity', 'NaN', '1e309', '0x10', ' 1'];
/** Strings a store or a log might choke on. */
export const ODD_STRINGS: string[] = [
  'a\u0000b', '\u0000', '\ud800', 'x\udfffy', '\ufeff', '\u202etxt', '😀'.repeat(50), '../../etc/passwd', '%00', '%2F', 'a/b', ' ', '\n', '\\', '"', "'; DROP TABLE leases; --",
  'ü'.repeat(300), 'x'.repeat(10_000),
];

// Raw JSON texts: an object with an own __proto__ (JSON.parse makes one), and constructor.prototype.
const PROTO = ['{"__proto__":{"isAdmin":true}}', '{"constructor":{"prototype":{"isAdmin":true}}}'];

export const BODY_MUTATIONS: BodyMutation[] = [
  { name: 'wrong-type', apply: (v, i) => json(replaced(v, i, WRONG_TYPES[i % WRONG_TYPES.length])) },
  { name: 'boundary-number', apply: (v, i) => json(replaced(v, i, BOUNDARY_NUMBERS[(i >> 3) % BOUNDARY_NUMBERS.length])) },
  { name: 'odd-string', apply: (v, i) => json(replaced(v, i, ODD_STRINGS[(i >> 3) % ODD_STRINGS.length])) },
  { name: 'missing-field', apply: (v, i) => json(without(v, i)) },
  { name: 'extra-field', apply: (v, i) => json(typeof v === 'object' && v !== null && !Array.isArray(v) ? { ...v, [['extra', 'isAdmin', 'owner', 'id', 'status'][i % 5]]: 1 } : { extra: v }) },
  { name: 'proto-key', apply: (v, i) => {
    const text = JSON.stringify(v ?? {});
    const inner = PROTO[i % PROTO.length].slice(1, -1);
    return raw(text.startsWith('{') && text !== '{}' ? `{${inner},${text.slice(1)}` : `{${inner}}`);
  } },
  { name: 'malformed-json', apply: (v, i) => {
    const text = JSON.stringify(v ?? {});
    const broken = [text.slice(0, Math.max(1, text.length >> 1)), `${text},`, text.replaceAll('"', "'"), `${text}}`, '{"a":1,}', 'NaN', '{"a":01}', '{"a":1e999}'];
    return raw(broken[i % broken.length]);
  } },
  { name: 'duplicate-key', apply: (v) => {
    const text = JSON.stringify(v ?? {});
    const first = Object.keys((v ?? {}) as object)[0] ?? 'kind';
    return raw(text.startsWith('{') && text !== '{}' ? `{"${first}":"x",${text.slice(1)}` : '{"a":1,"a":2}');
  } },
  { name: 'not-an-object', apply: (_v, i) => json([[], 'text', 42, null, true, [{}]][i % 6]) },
  { name: 'deep-nesting', apply: (_v, i) => raw(`${'['.repeat(5000 + i)}${']'.repeat(5000 + i)}`) },
  { name: 'invalid-utf8', apply: (v, i) => {
    const text = Buffer.from(JSON.stringify(replaced(v, i, 'XX')));
    const at = text.indexOf('XX');
    const bad = [Buffer.from([0xff, 0xfe]), Buffer.from([0xc0, 0xaf]), Buffer.from([0xed, 0xa0, 0x80]), Buffer.from([0xe2, 0x82])][i % 4];
    return raw(at < 0 ? Buffer.concat([text, bad]) : Buffer.concat([text.subarray(0, at), bad, text.subarray(at + 2)]));
  } },
  { name: 'empty-body', apply: (_v, i) => raw('', ['application/json', null, 'text/plain'][i % 3]) },
  { name: 'wrong-content-type', apply: (v, i) => raw(JSON.stringify(v ?? {}), ['text/plain', 'application/x-www-form-urlencoded', 'multipart/form-data; boundary=x', 'application/json; charset=latin1', 'application/octet-stream', 'application/jsonx', '*/*', 'application/json; charset=utf-16'][i % 8]) },
  { name: 'utf16-body', apply: (v) => raw(Buffer.from(JSON.stringify(v ?? {}), 'utf16le'), 'application/json') },
];

/** A body just over the JSON limit (1 MiB), or a field holding a string of that size: sent rarely. */
export const hugeBody = (v: unknown, index: number): Body => (index % 2 === 0
  ? json(replaced(v, index, 'x'.repeat(MIB + 16)))
  : raw(`{"pad":"${'y'.repeat(2 * MIB)}"}`));

/** Path parameter values that are not names: raw URL text, inserted as it is. */
export const JUNK_PARAMS: string[] = [
  '%00', 'a%00b', '%2F', 'a%2Fb', '..', '%2E%2E', '%zz', '%E0%A4%A', '%C0%AF', '%ED%A0%80', '%FF', 'a'.repeat(101), 'b'.repeat(257), 'c'.repeat(5000),
  '%C3%BC', 'x%20y', '-1', '0', '99999999999999999999', '1e3', 'NaN', '%23', 'l-0000000000000', '%25', '%u0041', 'A%0AB', '%0D%0AX-Injected:%201',
];

/** What is done to a whole URL. */
export const URL_MUTATIONS: { name: string; apply(url: string): string }[] = [
  { name: 'double-slash', apply: (u) => u.replaceAll('/', '//') },
  { name: 'trailing-slash', apply: (u) => `${u}/` },
  { name: 'encoded-letter', apply: (u) => u.replace(/\/v1\/([a-z])/, (_m, c: string) => `/v1/%${c.charCodeAt(0).toString(16)}`) },
  { name: 'upper-case', apply: (u) => u.toUpperCase() },
  { name: 'bad-query', apply: (u) => `${u}?limit=1e309&limit=-1&after=%zz&x=%00` },
  { name: 'dot-segments', apply: (u) => u.replace('/v1/', '/v1/./x/../') },
  { name: 'encoded-slash', apply: (u) => u.replace(/\/([^/]*)$/, '%2F$1') },
  { name: 'long-query', apply: (u) => `${u}?owner=${'o'.repeat(20_000)}` },
];

/** Authorization headers that carry no valid token. */
export const BAD_AUTHORIZATIONS: string[] = [
  'Bearer', 'Bearer ', 'Bearer vws_nope', 'Basic YWRtaW46YWRtaW4=', 'Token admin-token', 'bearer', 'Bearer a b', `Bearer ${'t'.repeat(8000)}`,
  'Bearer \u00e9t\u00e9', 'Digest username="admin"', 'Bearer admin-token-', 'Bearer\tadmin', 'Bearer admin-tokeN',
];

/** Idempotency-Key values: long, empty, non-ASCII, reused across bodies. */
export const IDEMPOTENCY_KEYS: string[] = ['', ' ', 'k', 'same-key', 'x'.repeat(300), 'y'.repeat(9000), '\u00e9\u00e8', 'a,b', '../../k'];

export const mutationIndex = fc.nat(1_000_000);
