// EC2's RunInstances obeys the site's terms as the REST API does (docs/terms.md): a launch past the
// caller's quota on cores is cut to the instances that fit between MinCount and MaxCount, as a
// launch short of capacity is, and refused with VcpuLimitExceeded (EC2's own answer to a vCPU
// limit) when not even MinCount fits; nothing is made by a refusal.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { amiIdOf } from '../../src/ec2/ids.ts';
import { ec2World, leaseDigest, signedQuery } from './ec2-world.ts';

test('RunInstances is held to the caller\'s quota: fewer instances where they fit, VcpuLimitExceeded where none does', async () => {
  const w = await ec2World(4);
  try {
    const terms = { format: 'vws.terms/v1', quotas: { users: { ann: { cpus: 2 } } } };
    assert.equal((await w.call('PUT', '/v1/terms', terms)).status, 200);
    const run = (min: number, max: number) => signedQuery(w.endpoint, w.ann, { Action: 'RunInstances', ImageId: amiIdOf(w.imageName), InstanceType: 't3.micro', MinCount: String(min), MaxCount: String(max) });
    const cut = await run(1, 3);
    assert.equal(cut.status, 200, cut.text);
    assert.equal(cut.text.match(/<instanceId>/g)?.length, 2, 'two 1-core instances fit a quota of 2 cores');
    const before = await leaseDigest(w);
    const refused = await run(1, 1);
    assert.deepEqual([refused.status, refused.code], [400, 'VcpuLimitExceeded'], refused.text);
    assert.match(refused.text.replaceAll('&apos;', "'"), /user ann's live leases hold 2 cores of the 2 its quota allows/);
    assert.equal(await leaseDigest(w), before, 'nothing was made');
  } finally {
    await w.close();
  }
});
