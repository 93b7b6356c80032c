// EC2's RunInstances obeys the site's image trust policy as the REST API does (docs/trust.md):
// under a policy that requires signing, an unsigned AMI is refused with UnauthorizedOperation and
// its reason, and nothing is made; once a trusted provider's statement is attached, it runs.

import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import { test } from 'node:test';
import { signStatement } from '../../src/drivers/image-statement.ts';
import { amiIdOf } from '../../src/ec2/ids.ts';
import { ec2World, leaseDigest, signedQuery } from './ec2-world.ts';

test('RunInstances refuses an image the trust policy does not let the caller run, and runs it once signed', async () => {
  const w = await ec2World(1);
  try {
    const { publicKey, privateKey } = generateKeyPairSync('ed25519');
    const run = () => signedQuery(w.endpoint, w.ann, { Action: 'RunInstances', ImageId: amiIdOf(w.imageName), MinCount: '1', MaxCount: '1' });
    assert.equal((await w.call('PUT', '/v1/trust/policy', { require: 'signed', claims: [] })).status, 200);
    const before = await leaseDigest(w);
    const refused = await run();
    assert.deepEqual([refused.status, refused.code], [403, 'UnauthorizedOperation'], refused.text);
    assert.match(refused.text.replaceAll('&apos;', "'"), /not trusted by this site's policy \(signed\): unsigned: image 'debian-12' is unsigned/);
    assert.equal(await leaseDigest(w), before, 'nothing was made');

    const image = (await w.call('GET', '/v1/images')).body.images.find((i: { name: string }) => i.name === w.imageName);
    const envelope = signStatement({ subject: { name: w.imageName, sha256: image.sha256, sizeBytes: 1024 * 1024 }, claims: {}, issuedAt: '2026-12-01T00:00:00Z' }, privateKey.export({ type: 'pkcs8', format: 'pem' }).toString());
    assert.equal((await w.call('POST', `/v1/images/${w.imageName}/statements`, envelope)).status, 201);
    assert.equal((await w.call('POST', '/v1/trust/signers', { name: 'vendor', publicKey: publicKey.export({ type: 'spki', format: 'pem' }).toString() })).status, 201);
    const ran = await run();
    assert.equal(ran.status, 200, ran.text);
  } finally {
    await w.close();
  }
});
