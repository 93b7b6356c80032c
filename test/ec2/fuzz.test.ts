// The Query API fuzzed with correctly signed requests: random actions (the supported ones and
// others), random parameters (known names, misspelt and unknown ones, lists with gaps) and values
// (ann's and bob's instance ids, malformed ids, numbers out of range, bad base64, long and odd
// text). Never a 5xx, every refusal in EC2's XML error format, and a refused request changes
// nothing: ann's and bob's leases, key pairs and tags are as before. The seed is printed:
// VWS_FUZZ_SEED=<seed> replays a run.

import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import fc from 'fast-check';
import { ACTIONS } from '../../src/ec2/actions/index.ts';
import { waitFor } from '../support/wait.ts';
import { type Ec2World, ec2World, type Keys, signedQuery } from './ec2-world.ts';

const seed = Number(process.env.VWS_FUZZ_SEED ?? Date.now() % 2 ** 31);
const RUNS = Number(process.env.VWS_EC2_FUZZ_RUNS ?? 150);

let w: Ec2World;
let ami: string;
const ids: { ann: string[]; bob: string[] } = { ann: [], bob: [] };

const call = (keys: Keys, params: Record<string, string>) => signedQuery(w.endpoint, keys, params);

async function run(keys: Keys, params: Record<string, string>): Promise<string[]> {
  const r = await call(keys, { Action: 'RunInstances', ImageId: ami, ...params });
  assert.equal(r.status, 200, r.text);
  return [...r.text.matchAll(/<instanceId>(i-[0-9a-f]{17})<\/instanceId>/g)].map((m) => m[1]);
}

before(async () => {
  w = await ec2World(4);
  ami = /<imageId>(ami-[0-9a-f]{17})<\/imageId>/.exec((await call(w.ann, { Action: 'DescribeImages' })).text)![1];
  ids.ann.push(...await run(w.ann, { MinCount: '2', MaxCount: '2', 'TagSpecification.1.ResourceType': 'instance', 'TagSpecification.1.Tag.1.Key': 'Name', 'TagSpecification.1.Tag.1.Value': 'a' }));
  ids.ann.push(...await run(w.ann, { MinCount: '1', MaxCount: '1', 'InstanceMarketOptions.MarketType': 'spot' }));
  ids.bob.push(...await run(w.bob, { MinCount: '1', MaxCount: '1' }));
  assert.equal((await call(w.ann, { Action: 'ImportKeyPair', KeyName: 'k', PublicKeyMaterial: Buffer.from('ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIGgmGUYBqpRPNcPkGR/oo2mjJWgiFZHt4+HLGpwu20zC').toString('base64') })).status, 200);
  await waitFor('all running', async () => (await call(w.ann, { Action: 'DescribeInstances' })).text.split('<name>running</name>').length - 1 === 3);
});

after(async () => {
  await w?.close();
});

/** What a refused request must not change: every lease (settling states folded together), and each user's key pairs and tags. */
async function state(): Promise<string> {
  const leases = (await w.call('GET', '/v1/leases?limit=1000')).body.leases as { id: string; status: string; nodes: string[] }[];
  const fold = (s: string) => (['suspending', 'suspended'].includes(s) ? 'suspended' : ['ending', 'done', 'cancelled', 'failed', 'rejected'].includes(s) ? 'ended' : 'live');
  const parts: unknown[] = [leases.map((l) => [l.id, fold(l.status)])];
  for (const keys of [w.ann, w.bob]) {
    for (const action of ['DescribeKeyPairs', 'DescribeTags']) parts.push((await call(keys, { Action: action })).text.replace(/<requestId>[^<]*<\/requestId>/, ''));
  }
  return JSON.stringify(parts);
}

const value = (): fc.Arbitrary<string> => fc.oneof(
  fc.constantFrom(...ids.ann, ...ids.bob, 'i-0123456789abcdef0', 'i-zz', ami, 'ami-00000000000000000', 'k', 'nope', 'instance', 'spot', 'running', 'tag:Name', 'Name', 'a', ''),
  fc.constantFrom('0', '1', '2', '5', '1000', '1001', '-1', '1.5', '99999999999', 'true', 'false', 't3.micro', 'm5.large', 'x9.huge', 'vws', 'vwsa', 'ed25519', 'rsa', 'pem'),
  fc.constantFrom('IyEvYmluL3NoCg==', 'not base64', '#cloud-config', 'AAAA', Buffer.from('ssh-rsa AAAA').toString('base64')),
  fc.string({ maxLength: 40 }),
  fc.string({ unit: 'grapheme', maxLength: 20 }),
);

const NAMES = [
  'InstanceId.1', 'InstanceId.2', 'InstanceId.3', 'InstanceId.5', 'ImageId', 'ImageId.1', 'MinCount', 'MaxCount', 'InstanceType', 'KeyName', 'KeyName.1', 'KeyType', 'KeyFormat',
  'KeyPairId', 'PublicKeyMaterial', 'UserData', 'ClientToken', 'MaxResults', 'NextToken', 'DryRun', 'Version', 'Force', 'Hibernate', 'SubnetId',
  'Filter.1.Name', 'Filter.1.Value.1', 'Filter.2.Name', 'Filter.2.Value.2', 'ResourceId.1', 'ResourceId.2', 'Tag.1.Key', 'Tag.1.Value', 'Tag.3.Key',
  'TagSpecification.1.ResourceType', 'TagSpecification.1.Tag.1.Key', 'TagSpecification.1.Tag.1.Value', 'InstanceMarketOptions.MarketType',
  'Placement.AvailabilityZone', 'RegionName.1', 'ZoneName.1', 'InstanceType.1', 'Owner.1', 'AllRegions',
];

/** The parameters each action reads, so that most requests get past the first missing one. */
const OWN: Record<string, string[]> = {
  RunInstances: ['ImageId', 'MinCount', 'MaxCount', 'InstanceType', 'KeyName', 'UserData', 'ClientToken', 'TagSpecification.1.ResourceType', 'TagSpecification.1.Tag.1.Key', 'TagSpecification.1.Tag.1.Value', 'InstanceMarketOptions.MarketType', 'Placement.AvailabilityZone'],
  DescribeInstances: ['InstanceId.1', 'InstanceId.2', 'Filter.1.Name', 'Filter.1.Value.1', 'Filter.2.Name', 'Filter.2.Value.1', 'MaxResults', 'NextToken'],
  TerminateInstances: ['InstanceId.1', 'InstanceId.2', 'InstanceId.3'],
  StopInstances: ['InstanceId.1', 'InstanceId.2', 'InstanceId.3'],
  StartInstances: ['InstanceId.1', 'InstanceId.2', 'InstanceId.3'],
  RebootInstances: ['InstanceId.1', 'InstanceId.2'],
  DescribeImages: ['ImageId.1', 'Owner.1', 'Filter.1.Name', 'Filter.1.Value.1'],
  CreateKeyPair: ['KeyName', 'KeyType', 'KeyFormat'],
  ImportKeyPair: ['KeyName', 'PublicKeyMaterial'],
  DescribeKeyPairs: ['KeyName.1', 'KeyPairId.1'],
  DeleteKeyPair: ['KeyName', 'KeyPairId'],
  CreateTags: ['ResourceId.1', 'ResourceId.2', 'Tag.1.Key', 'Tag.1.Value', 'Tag.2.Key'],
  DeleteTags: ['ResourceId.1', 'Tag.1.Key', 'Tag.1.Value'],
  DescribeTags: ['Filter.1.Name', 'Filter.1.Value.1'],
  DescribeAvailabilityZones: ['ZoneName.1'],
  DescribeRegions: ['RegionName.1', 'AllRegions'],
  DescribeInstanceTypes: ['InstanceType.1'],
};

const request = (): fc.Arbitrary<{ who: 'ann' | 'bob'; params: Record<string, string> }> => fc.record({
  who: fc.constantFrom('ann' as const, 'bob' as const),
  params: fc.oneof({ weight: 6, arbitrary: fc.constantFrom(...ACTIONS.keys()) }, { weight: 1, arbitrary: fc.constantFrom('RunInstance', 'DeleteVpc', '', 'describeinstances') })
    .chain((Action) => fc.tuple(
      fc.dictionary(fc.constantFrom(...(OWN[Action] ?? NAMES)), value(), { maxKeys: 6 }),
      fc.dictionary(fc.oneof({ weight: 8, arbitrary: fc.constantFrom(...NAMES) }, { weight: 1, arbitrary: fc.string({ minLength: 1, maxLength: 12 }) }), value(), { maxKeys: 2 }),
      fc.boolean(),
    ).map(([own, other, foreign]) => ({ ...own, ...(foreign ? other : {}), Action }))),
});

test(`fuzzed signed requests never 5xx and change nothing when refused (seed ${seed})`, async () => {
  const tally = new Map<string, number>();
  await fc.assert(fc.asyncProperty(request(), async ({ who, params }) => {
    const before = await state();
    const r = await call(w[who], params);
    assert.ok(r.status < 500, `${r.status} for ${JSON.stringify(params)}: ${r.text}`);
    const key = r.status === 200 ? `${params.Action} ok` : r.code ?? 'no code';
    tally.set(key, (tally.get(key) ?? 0) + 1);
    if (r.status !== 200) {
      assert.match(r.text, /^<\?xml version="1.0" encoding="UTF-8"\?>\n<Response><Errors><Error><Code>[A-Za-z.]+<\/Code><Message>[^<]*<\/Message><\/Error><\/Errors><RequestID>[0-9a-f-]{36}<\/RequestID><\/Response>$/s);
      assert.equal(await state(), before, `refused ${r.code} changed state: ${JSON.stringify(params)}`);
    }
  }), { seed, numRuns: RUNS, endOnFailure: true });
  process.stdout.write(`# answers: ${JSON.stringify(Object.fromEntries([...tally].sort()))}\n`);
  // The service still launches after the run.
  const left = await call(w.ann, { Action: 'DescribeRegions' });
  assert.equal(left.status, 200);
});
