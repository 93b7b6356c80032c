// The image trust routes and policy (issue 17, item 5; src/api/routes/trust.ts): only
// administrators change signers and the requirement (on the matched route); a statement attached
// to an image must verify and be about its content; a lease whose image the policy refuses is
// refused at quote, hold and create with untrusted-image and the reason, and nothing is made.

import assert from 'node:assert/strict';
import { createHash, generateKeyPairSync } from 'node:crypto';
import { test } from 'node:test';
import { signStatement, timeOf } from '../../src/drivers/image-statement.ts';
import { apiWorld, lease, T0, type ApiWorld } from './api-world.ts';
import { assertRefused } from './refusal-assert.ts';

const pair = () => {
  const { publicKey, privateKey } = generateKeyPairSync('ed25519');
  return { pub: publicKey.export({ type: 'spki', format: 'pem' }).toString(), priv: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString() };
};
const vendor = pair();
const stranger = pair();
const CONTENT = Buffer.from('a disk image, in a manner of speaking\n');
const SHA = createHash('sha256').update(CONTENT).digest('hex');

const statement = (o: { sha256?: string; patched?: string; expiresAt?: number } = {}, key = vendor.priv) => signStatement({
  subject: { name: 'deb', sha256: o.sha256 ?? SHA, sizeBytes: CONTENT.length },
  claims: { patched: { value: o.patched ?? timeOf(T0 - 86_400).slice(0, 10) } },
  issuedAt: timeOf(T0 - 3600),
  ...(o.expiresAt ? { expiresAt: timeOf(o.expiresAt) } : {}),
}, key);

/** bob's image 'deb', registered and uploaded. */
async function withImage(w: ApiWorld): Promise<void> {
  assert.equal((await w.call(w.tokens.bob, 'POST', '/v1/images', { name: 'deb', sizeMiB: 1, sha256: SHA })).status, 201);
  const put = await w.app.inject({ method: 'PUT', url: '/v1/images/deb/content', payload: CONTENT, headers: { authorization: `Bearer ${w.tokens.bob}`, 'content-type': 'application/octet-stream' } });
  assert.equal(put.statusCode, 200, put.body);
}

test('signers and the policy: users read them, only administrators change them, bodies are strict', async () => {
  const w = await apiWorld(1);
  try {
    assert.deepEqual((await w.call(w.tokens.bob, 'GET', '/v1/trust/policy')).body, { require: 'none', claims: [], updatedBy: null, updatedAt: null });
    assertRefused(await w.call(w.tokens.bob, 'POST', '/v1/trust/signers', { name: 'vendor', publicKey: vendor.pub }), 'forbidden');
    assertRefused(await w.call(w.tokens.bob, 'PUT', '/v1/trust/policy', { require: 'signed', claims: [] }), 'forbidden');
    assertRefused(await w.call(w.tokens.bob, 'PUT', '/v1/%74rust/policy', { require: 'signed', claims: [] }), 'forbidden', 'spelled otherwise');
    assertRefused(await w.call(w.tokens.admin, 'POST', '/v1/trust/signers', { name: 'vendor', publicKey: vendor.pub, extra: 1 }), 'invalid-request');
    assertRefused(await w.call(w.tokens.admin, 'POST', '/v1/trust/signers', { name: 'vendor', publicKey: 'not a key' }), 'invalid-request');
    assertRefused(await w.call(w.tokens.admin, 'PUT', '/v1/trust/policy', { require: 'maybe', claims: [] }), 'invalid-request');
    assertRefused(await w.call(w.tokens.admin, 'PUT', '/v1/trust/policy', { require: 'signed', claims: [{ name: 'patched', maxAgeDays: '30' }] }), 'invalid-request', 'no coercion');
    assertRefused(await w.call(w.tokens.admin, 'PUT', '/v1/trust/policy', { require: 'signed', claims: [{ name: 'patched' }, { name: 'patched' }] }), 'invalid-request');
    const added = await w.call(w.tokens.admin, 'POST', '/v1/trust/signers', { name: 'vendor', publicKey: vendor.pub, claims: ['patched'] });
    assert.equal(added.status, 201, JSON.stringify(added.body));
    assert.match(added.body.keyId, /^[0-9a-f]{16}$/);
    assertRefused(await w.call(w.tokens.admin, 'POST', '/v1/trust/signers', { name: 'again', publicKey: vendor.pub }), 'already-exists');
    assert.deepEqual((await w.call(w.tokens.bob, 'GET', '/v1/trust/signers')).body.signers.map((s: { name: string }) => s.name), ['vendor']);
    assertRefused(await w.call(w.tokens.bob, 'DELETE', '/v1/trust/signers/vendor'), 'forbidden');
    const set = await w.call(w.tokens.admin, 'PUT', '/v1/trust/policy', { require: 'signed', claims: [{ name: 'patched', maxAgeDays: 30 }] });
    assert.deepEqual(set.body, { require: 'signed', claims: [{ name: 'patched', maxAgeDays: 30 }], updatedBy: 'admin', updatedAt: T0 });
    assert.deepEqual((await w.call(w.tokens.admin, 'DELETE', '/v1/trust/signers/vendor')).body, { removed: 'vendor' });
    assertRefused(await w.call(w.tokens.admin, 'DELETE', '/v1/trust/signers/vendor'), 'not-found');
  } finally {
    await w.close();
  }
});

test('a statement is attached only by the image\'s owner, only if it verifies and is about the image\'s content', async () => {
  const w = await apiWorld(1);
  try {
    await withImage(w);
    assertRefused(await w.call(w.tokens.carol, 'POST', '/v1/images/deb/statements', statement()), 'not-found', "carol does not see bob's image");
    assertRefused(await w.call(w.tokens.bob, 'POST', '/v1/images/deb/statements', statement({ sha256: 'cd'.repeat(32) })), 'invalid-statement', 'about other bytes');
    const good = statement();
    const text = Buffer.from(good.payload, 'base64').toString('utf8').replace('"name":"deb"', '"name":"deX"');
    const tampered = await w.call(w.tokens.bob, 'POST', '/v1/images/deb/statements', { ...good, payload: Buffer.from(text).toString('base64') });
    assertRefused(tampered, 'invalid-statement', 'changed after signing');
    assert.match(tampered.body.message, /made over other bytes/);
    assertRefused(await w.call(w.tokens.bob, 'POST', '/v1/images/deb/statements', { ...good, signature: statement({ patched: '2020-01-01' }).signature }), 'invalid-statement', 'a signature over other bytes');
    assertRefused(await w.call(w.tokens.bob, 'POST', '/v1/images/deb/statements', { ...good, extra: true }), 'invalid-request');
    const ok = await w.call(w.tokens.bob, 'POST', '/v1/images/deb/statements', good);
    assert.equal(ok.status, 201, JSON.stringify(ok.body));
    assert.equal(ok.body.statement.subject.sha256, SHA);
    const shown = await w.call(w.tokens.bob, 'GET', '/v1/images/deb/statements');
    assert.deepEqual([shown.body.policy, shown.body.accepted, shown.body.statements.length, shown.body.statements[0].signer], ['none', true, 1, null]);
  } finally {
    await w.close();
  }
});

test('quote, hold and create refuse an image the policy does not trust, with the reason, and make nothing', async () => {
  const w = await apiWorld(1);
  try {
    await withImage(w);
    const ask = async (token: string, why: string, reason: RegExp) => {
      await w.idle();
      const before = await w.digest.digest();
      for (const [url, body] of [['/v1/leases/quote', lease({ image: 'deb' })], ['/v1/leases', lease({ image: 'deb' })], ['/v1/leases/hold', { lease: lease({ image: 'deb', kind: 'exact', start: T0 + 3600 }), ttl: 60 }]] as const) {
        const res = await w.call(token, 'POST', url, body);
        assertRefused(res, 'untrusted-image', `${why} at ${url}`);
        assert.match(res.body.message, reason, why);
      }
      assert.equal(await w.digest.digest(), before, `${why}: nothing was made`);
    };
    // The default policy (none): the unsigned image runs, as before.
    assert.equal((await w.call(w.tokens.bob, 'POST', '/v1/leases/quote', lease({ image: 'deb' }))).status, 200);
    await w.call(w.tokens.admin, 'PUT', '/v1/trust/policy', { require: 'signed-unless-admin', claims: [{ name: 'patched', maxAgeDays: 30 }] });
    await ask(w.tokens.bob, 'unsigned', /unsigned: image 'deb' is unsigned/);
    assert.equal((await w.call(w.tokens.admin, 'POST', '/v1/leases/quote', lease({ image: 'deb' }))).status, 200, 'an administrator runs it unsigned');
    await w.call(w.tokens.bob, 'POST', '/v1/images/deb/statements', statement({}, stranger.priv));
    await ask(w.tokens.bob, 'an unknown signer', /unknown-signer: .* not a trusted signer/);
    await w.call(w.tokens.admin, 'POST', '/v1/trust/signers', { name: 'vendor', publicKey: vendor.pub, claims: ['scanned'] });
    await w.call(w.tokens.bob, 'POST', '/v1/images/deb/statements', statement({ patched: '2026-01-01' }));
    await ask(w.tokens.bob, 'a signer not trusted for the claim', /claim-untrusted: signer vendor is not trusted for claim 'patched'/);
    await w.call(w.tokens.admin, 'DELETE', '/v1/trust/signers/vendor');
    await w.call(w.tokens.admin, 'POST', '/v1/trust/signers', { name: 'vendor', publicKey: vendor.pub });
    await ask(w.tokens.bob, 'a claim too old', /claim-too-old: claim 'patched' by vendor is 2026-01-01, older than the 30 days/);
    await w.call(w.tokens.bob, 'POST', '/v1/images/deb/statements', statement({ expiresAt: T0 + 60 }));
    const made = await w.call(w.tokens.bob, 'POST', '/v1/leases', lease({ image: 'deb' }));
    assert.equal(made.status, 201, JSON.stringify(made.body));
    w.clock.advance(120);
    await ask(w.tokens.bob, 'an expired statement', /expired: the statement by vendor on 'deb' expired at/);
    const shown = await w.call(w.tokens.bob, 'GET', '/v1/images/deb/statements');
    assert.equal(shown.body.accepted, false);
    assert.deepEqual(shown.body.reasons.map((r: { code: string }) => r.code).sort(), ['expired', 'unknown-signer']);
  } finally {
    await w.close();
  }
});
