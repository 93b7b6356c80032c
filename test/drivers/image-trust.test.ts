// Signed image statements and the trust policy (src/drivers/image-statement.ts, trust-policy.ts):
// a statement verifies only over its exact bytes, by its own key, about its own content; the
// policy refuses unsigned images, unknown signers, claims from signers not trusted for them,
// expired claims and statements, each with its reason.

import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import { test } from 'node:test';
import { canonicalJson, keyIdOf, openEnvelope, signStatement, type StatementEnvelope, secondsOf, subjectMismatch } from '../../src/drivers/image-statement.ts';
import { evaluateTrust, type TrustedSigner, type TrustPolicy, type TrustQuestion } from '../../src/drivers/trust-policy.ts';

const pair = () => {
  const { publicKey, privateKey } = generateKeyPairSync('ed25519');
  return { pub: publicKey.export({ type: 'spki', format: 'pem' }).toString(), priv: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString() };
};
const vendor = pair();
const other = pair();
const SHA = 'ab'.repeat(32);
const NOW = secondsOf('2026-12-06T12:00:00Z');

const signed = (o: { sha256?: string; claims?: Record<string, { value: string; expiresAt?: string }>; expiresAt?: string } = {}, key = vendor.priv): StatementEnvelope => signStatement({
  subject: { name: 'debian', sha256: o.sha256 ?? SHA, sizeBytes: 1024 },
  description: 'Debian 12 with cloud-init',
  claims: o.claims ?? { patched: { value: '2026-12-01' } },
  issuedAt: '2026-12-01T00:00:00Z',
  ...(o.expiresAt ? { expiresAt: o.expiresAt } : {}),
}, key);

const signer = (o: Partial<TrustedSigner> = {}): TrustedSigner => ({ name: 'vendor', keyId: keyIdOf(vendor.pub), publicKey: vendor.pub, claims: null, ...o });
const ask = (o: Partial<TrustQuestion> & { policy?: TrustPolicy } = {}) => evaluateTrust({
  image: { name: 'debian', sha256: SHA }, statements: [signed()], signers: [signer()], policy: { require: 'signed', claims: [] }, now: NOW, isAdmin: false, ...o,
});
const codes = (v: ReturnType<typeof evaluateTrust>) => v.reasons.map((r) => r.code);

test('canonical JSON sorts keys at every level, drops undefined, has no whitespace and refuses floats', () => {
  assert.equal(canonicalJson({ b: 1, a: { d: [true, null, 'x'], c: 'é' }, u: undefined }), '{"a":{"c":"é","d":[true,null,"x"]},"b":1}');
  assert.throws(() => canonicalJson({ a: 1.5 }), /only integers/);
});

test('a statement verifies with its key; a changed payload, another key or a swapped signature do not', () => {
  const env = signed();
  const ok = openEnvelope(env);
  assert.ok(ok.ok);
  assert.equal(ok.statement.signer, keyIdOf(vendor.pub));
  assert.equal(ok.statement.subject.sha256, SHA);
  // The payload changed after signing: one claim's value, same length.
  const text = Buffer.from(env.payload, 'base64').toString('utf8').replace('2026-12-01"}', '2026-12-05"}');
  const tampered = { ...env, payload: Buffer.from(text).toString('base64') };
  assert.match((openEnvelope(tampered) as { reason: string }).reason, /over other bytes/);
  // A signature made over other bytes (another statement's) on this payload.
  const swapped = { ...env, signature: signed({ sha256: 'cd'.repeat(32) }).signature };
  assert.match((openEnvelope(swapped) as { reason: string }).reason, /does not verify/);
  // Checked with a key other than the one named.
  assert.match((openEnvelope(env, other.pub) as { reason: string }).reason, /names key .* but the key given is/);
  // Someone else's key and key id, the payload kept: the signature is not theirs.
  const claimed = { ...env, keyId: keyIdOf(other.pub), publicKey: other.pub };
  assert.match((openEnvelope(claimed) as { reason: string }).reason, /does not verify/);
  assert.match(subjectMismatch(ok.statement, 'cd'.repeat(32)) ?? '', /about other bytes/);
  assert.match(subjectMismatch(ok.statement, SHA, 1) ?? '', /1024 bytes, the image 1/);
});

test('the policy: none lets anything run; signed wants a valid statement by a trusted signer', () => {
  assert.ok(ask({ policy: { require: 'none', claims: [] }, statements: [] }).accepted);
  const good = ask();
  assert.ok(good.accepted);
  assert.equal(good.by[0].signer.name, 'vendor');
  assert.deepEqual(codes(ask({ statements: [] })), ['unsigned']);
  assert.deepEqual(codes(ask({ signers: [] })), ['unknown-signer']);
  assert.deepEqual(codes(ask({ statements: [signed({}, other.priv)] })), ['unknown-signer']);
  assert.deepEqual(codes(ask({ statements: [signed({ sha256: 'cd'.repeat(32) })] })), ['other-bytes']);
  assert.deepEqual(codes(ask({ statements: [signed({ expiresAt: '2026-12-06T11:59:59Z' })] })), ['expired']);
  // A trusted signer's name over another key's statement: refused as a bad signature.
  assert.deepEqual(codes(ask({ statements: [{ ...signed({}, other.priv), keyId: keyIdOf(vendor.pub) }] })), ['bad-signature']);
  // One bad statement beside a good one does not spoil it.
  assert.ok(ask({ statements: [signed({}, other.priv), signed()] }).accepted);
});

test('signed-unless-admin: administrators run unsigned images, others do not', () => {
  const policy: TrustPolicy = { require: 'signed-unless-admin', claims: [] };
  assert.ok(ask({ policy, statements: [], isAdmin: true }).accepted);
  assert.deepEqual(codes(ask({ policy, statements: [] })), ['unsigned']);
});

test('required claims: from a signer trusted for them, unexpired, no older than the maximum age', () => {
  const policy: TrustPolicy = { require: 'signed', claims: [{ name: 'patched', maxAgeDays: 30 }] };
  assert.ok(ask({ policy }).accepted);
  assert.deepEqual(codes(ask({ policy, statements: [signed({ claims: {} })] })), ['claim-missing']);
  assert.deepEqual(codes(ask({ policy, signers: [signer({ claims: ['scanned'] })] })), ['claim-untrusted']);
  assert.ok(ask({ policy, signers: [signer({ claims: ['patched'] })] }).accepted);
  assert.deepEqual(codes(ask({ policy, statements: [signed({ claims: { patched: { value: '2026-12-01', expiresAt: '2026-12-05T00:00:00Z' } } })] })), ['claim-expired']);
  assert.deepEqual(codes(ask({ policy, statements: [signed({ claims: { patched: { value: '2026-10-01' } } })] })), ['claim-too-old']);
  const v = ask({ policy, statements: [signed({ claims: { patched: { value: '2026-10-01' } } })] });
  assert.match(v.reasons[0].message, /2026-10-01, older than the 30 days/);
});

test('a malformed statement is refused at signing with what is wrong', () => {
  assert.throws(() => signed({ sha256: 'XY' }), /subject must be/);
  assert.throws(() => signed({ claims: { Patched: { value: 'x' } } }), /claim name 'Patched'/);
  assert.throws(() => signStatement({ subject: { name: 'd', sha256: SHA, sizeBytes: 1 }, claims: {}, issuedAt: '2026-12-01' }, vendor.priv), /issuedAt must be an RFC 3339/);
});
