// The shapes of the context broker's routes (routes/context.ts): what a guest sends, bounded in
// every field, and what the owner sees. Their own file, beside schemas.ts, as the protocol is its own.

import { Type } from '@sinclair/typebox';
import { MEMBER_ID } from '../broker/registration.ts';
import { ENTRY_NAME } from '../core/roles.ts';

const strict = { additionalProperties: false } as const;
/** One line of printable text (no control characters), as a value in /etc/hosts or a key file takes. */
const LINE = '^[^\\u0000-\\u001f\\u007f\\ud800-\\udfff]*$';

export const ExchangeBody = Type.Object({
  lease: Type.String({ minLength: 1, maxLength: 256, pattern: LINE, description: 'the lease id, from the seed' }),
  member: Type.String({ minLength: 1, maxLength: 128, pattern: MEMBER_ID.source, description: 'the member id, from the seed' }),
  secret: Type.String({ minLength: 43, maxLength: 43, pattern: '^[A-Za-z0-9_-]+$', description: 'the member\'s secret, from the seed: 32 bytes, base64url; good for one exchange' }),
}, strict);

export const ExchangeAnswer = Type.Object({
  session: Type.String({ description: 'the bearer token for the member\'s other calls' }),
}, strict);

/** An IPv4 or IPv6 address, as text; the broker keeps it as given. */
const IP = '^(?:(?:25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])(?:\\.(?:25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])){3}|[0-9A-Fa-f:.]{2,45})$';

export const ReportBody = Type.Object({
  ip: Type.String({ minLength: 2, maxLength: 45, pattern: IP, description: 'the member\'s address on the cluster\'s network' }),
  hostname: Type.String({ minLength: 1, maxLength: 253, pattern: '^[A-Za-z0-9.-]+$', description: 'the member\'s host name, as its seed set it' }),
  hostKey: Type.String({ minLength: 16, maxLength: 8192, pattern: '^(ssh|ecdsa|sk)-[A-Za-z0-9@.-]+ [A-Za-z0-9+/=]+( [^\\u0000-\\u001f\\u007f]*)?$', description: 'the ssh host public key, one line as in /etc/ssh/ssh_host_ed25519_key.pub' }),
  entries: Type.Record(Type.String({ pattern: ENTRY_NAME.source }), Type.String({ maxLength: 4096, pattern: LINE }), {
    maxProperties: 64, description: 'exactly the entries the member\'s role provides, each one line of up to 4096 characters',
  }),
}, strict);

export const DoneBody = Type.Union([
  Type.Object({ ok: Type.Literal(true) }, strict),
  Type.Object({ ok: Type.Literal(false), reason: Type.String({ minLength: 1, maxLength: 2000, pattern: LINE, description: 'why the member could not apply its context' }) }, strict),
]);

export const Waiting = Type.Object({
  status: Type.Literal('pending'),
  waitsFor: Type.Array(Type.String(), { description: 'ROLE.ENTRY requirements (or ROLE.hostname) not yet met' }),
}, strict);

const MemberView = Type.Object({
  id: Type.String(), index: Type.Integer(), hostname: Type.String(),
  step: Type.Union(['exchange', 'report', 'context', 'done', 'complete', 'failed'].map((s) => Type.Literal(s))),
  waitsFor: Type.Array(Type.String()), failure: Type.Union([Type.String(), Type.Null()]),
});
const Status = Type.Union([Type.Literal('pending'), Type.Literal('complete'), Type.Literal('failed')]);

export const ContextStateView = Type.Object({
  leaseId: Type.String(),
  status: Status,
  reason: Type.Union([Type.String(), Type.Null()], { description: 'the first failure, when failed' }),
  roles: Type.Array(Type.Object({
    name: Type.String(), count: Type.Integer(), minCount: Type.Integer(), status: Status,
    reported: Type.Integer(), done: Type.Integer(), failed: Type.Integer(), members: Type.Array(MemberView),
  })),
});
