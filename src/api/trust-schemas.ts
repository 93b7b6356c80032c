// The request and response shapes of the image trust routes (routes/trust.ts): signers, the site's
// requirement, and the signed statements attached to images (src/drivers/image-statement.ts).

import { Type } from '@sinclair/typebox';
import { PAYLOAD_TYPE } from '../drivers/image-statement.ts';
import { TRUST_REQUIREMENTS } from '../drivers/trust-policy.ts';

const strict = { additionalProperties: false } as const;
const ClaimName = Type.String({ pattern: '^[a-z][a-z0-9._-]{0,63}$' });
const Pem = Type.String({ minLength: 1, maxLength: 4096, description: 'an Ed25519 public key, SPKI PEM (-----BEGIN PUBLIC KEY-----)' });

export const SignerName = Type.String({ pattern: '^[a-z][a-z0-9._-]{0,63}$' });
export const SignerNameParam = Type.Object({ name: Type.String({ minLength: 1 }) }, strict);

export const SignerBody = Type.Object({
  name: SignerName,
  publicKey: Pem,
  claims: Type.Optional(Type.Array(ClaimName, { maxItems: 64, uniqueItems: true, description: 'the claims it is trusted for; absent: every claim' })),
}, strict);

export const Signer = Type.Object({
  name: Type.String(), keyId: Type.String(), publicKey: Type.String(),
  claims: Type.Union([Type.Array(Type.String()), Type.Null()], { description: 'null: trusted for every claim' }),
  addedBy: Type.String(), addedAt: Type.Integer(),
});

export const SignerList = Type.Object({ signers: Type.Array(Signer) });

export const TrustPolicyBody = Type.Object({
  require: Type.Union(TRUST_REQUIREMENTS.map((r) => Type.Literal(r)), {
    description: 'none: any image runs; signed: only images with a valid statement by a trusted signer; signed-unless-admin: the same, but administrators run unsigned images too',
  }),
  claims: Type.Array(Type.Object({
    name: ClaimName,
    maxAgeDays: Type.Optional(Type.Integer({ minimum: 1, maximum: 3660, description: "the claim's value is a date no older than this many days" })),
  }, strict), { maxItems: 32, description: 'claims an image must carry from a signer trusted for them' }),
}, strict);

export const TrustPolicy = Type.Object({
  require: Type.String(), claims: Type.Array(Type.Unknown()),
  updatedBy: Type.Union([Type.String(), Type.Null()]), updatedAt: Type.Union([Type.Integer(), Type.Null()]),
});

export const StatementEnvelope = Type.Object({
  payloadType: Type.Literal(PAYLOAD_TYPE),
  payload: Type.String({ minLength: 1, maxLength: 65_536, description: "the statement's canonical JSON, base64" }),
  keyId: Type.String({ pattern: '^[0-9a-f]{16}$' }),
  signature: Type.String({ minLength: 1, maxLength: 256, description: 'Ed25519, base64' }),
  publicKey: Pem,
}, { ...strict, description: 'a signed image statement, as vws image sign writes it' });
