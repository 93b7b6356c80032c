// @aws-sdk/client-ec2, unchanged but for its endpoint, against a real `vws serve --ec2-listen`:
// run, describe (filters, pagination), stop, start, terminate, key pairs, tags; and the refusals a
// client meets (a wrong secret, a clock 20 minutes off, another user's instance, an unknown action
// or parameter), each with EC2's code and nothing changed.

import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import {
  CreateKeyPairCommand, CreateTagsCommand, DeleteKeyPairCommand, DeleteTagsCommand, DescribeAvailabilityZonesCommand, DescribeImagesCommand,
  DescribeInstancesCommand, DescribeInstanceTypesCommand, DescribeKeyPairsCommand, DescribeRegionsCommand, DescribeTagsCommand, EC2Client,
  ImportKeyPairCommand, RebootInstancesCommand, RunInstancesCommand, StartInstancesCommand, StopInstancesCommand, TerminateInstancesCommand,
  paginateDescribeInstances,
} from '@aws-sdk/client-ec2';
import { waitFor } from '../support/wait.ts';
import { type Ec2World, ec2World, type Keys, leaseDigest, signedQuery } from './ec2-world.ts';

let w: Ec2World;
let ann: EC2Client;
let bob: EC2Client;
let ami: string;

const client = (keys: Keys, o: Partial<ConstructorParameters<typeof EC2Client>[0]> = {}): EC2Client =>
  new EC2Client({ endpoint: w.endpoint, region: 'vws', credentials: keys, maxAttempts: 1, ...o });

/** What the SDK threw: its error name is EC2's code. */
async function codeOf(p: Promise<unknown>): Promise<string> {
  try {
    await p;
  } catch (e) {
    return (e as Error).name;
  }
  throw new Error('the request was not refused');
}

async function states(c: EC2Client, ids: string[]): Promise<string[]> {
  const r = await c.send(new DescribeInstancesCommand({ InstanceIds: ids }));
  const all = r.Reservations!.flatMap((x) => x.Instances!);
  return ids.map((id) => all.find((i) => i.InstanceId === id)!.State!.Name!);
}

const allIn = (c: EC2Client, ids: string[], state: string) => waitFor(`instances ${ids.join(',')} ${state}`, async () => (await states(c, ids)).every((s) => s === state));

before(async () => {
  w = await ec2World(4);
  ann = client(w.ann);
  bob = client(w.bob);
  const images = await ann.send(new DescribeImagesCommand({}));
  ami = images.Images!.find((i) => i.Name === w.imageName)!.ImageId!;
});

after(async () => {
  ann?.destroy();
  bob?.destroy();
  await w?.close();
});

test('the catalogue: images, the one region and zone, and the instance types', async () => {
  assert.match(ami, /^ami-[0-9a-f]{17}$/);
  const again = await ann.send(new DescribeImagesCommand({ ImageIds: [ami] }));
  assert.deepEqual(again.Images!.map((i) => [i.ImageId, i.Name, i.State]), [[ami, w.imageName, 'available']]);
  assert.equal(await codeOf(ann.send(new DescribeImagesCommand({ ImageIds: ['ami-00000000000000000'] }))), 'InvalidAMIID.NotFound');
  const regions = await ann.send(new DescribeRegionsCommand({}));
  assert.deepEqual(regions.Regions!.map((r) => r.RegionName), ['vws']);
  const zones = await ann.send(new DescribeAvailabilityZonesCommand({}));
  assert.deepEqual(zones.AvailabilityZones!.map((z) => [z.ZoneName, z.State]), [['vwsa', 'available']]);
  const types = await ann.send(new DescribeInstanceTypesCommand({ InstanceTypes: ['t3.micro', 'm5.large'] }));
  assert.deepEqual(types.InstanceTypes!.map((t) => [t.InstanceType, t.VCpuInfo!.DefaultVCpus, t.MemoryInfo!.SizeInMiB]).sort(), [['m5.large', 2, 8192], ['t3.micro', 1, 1024]]);
});

test('run, describe with filters and pages, tags, stop and start (spot), terminate', async () => {
  const key = await ann.send(new CreateKeyPairCommand({ KeyName: 'laptop', KeyType: 'ed25519' }));
  assert.match(key.KeyMaterial!, /BEGIN OPENSSH PRIVATE KEY/);
  const run = await ann.send(new RunInstancesCommand({
    ImageId: ami, InstanceType: 't3.small', MinCount: 1, MaxCount: 3, KeyName: 'laptop',
    UserData: Buffer.from('#!/bin/sh\necho hello\n').toString('base64'), ClientToken: 'sdk-run-1',
    TagSpecifications: [{ ResourceType: 'instance', Tags: [{ Key: 'Name', Value: 'web' }, { Key: 'team', Value: 'a' }] }],
  }));
  const ids = run.Instances!.map((i) => i.InstanceId!);
  assert.equal(ids.length, 3);
  for (const i of run.Instances!) {
    assert.match(i.InstanceId!, /^i-[0-9a-f]{17}$/);
    assert.equal(i.InstanceType, 't3.small');
    assert.equal(i.KeyName, 'laptop');
    assert.deepEqual(i.Tags!.map((t) => t.Key).sort(), ['Name', 'team']);
  }
  // The same ClientToken gives the same reservation, and makes no second lease.
  const leases = await leaseDigest(w);
  const retry = await ann.send(new RunInstancesCommand({
    ImageId: ami, InstanceType: 't3.small', MinCount: 1, MaxCount: 3, KeyName: 'laptop',
    UserData: Buffer.from('#!/bin/sh\necho hello\n').toString('base64'), ClientToken: 'sdk-run-1',
    TagSpecifications: [{ ResourceType: 'instance', Tags: [{ Key: 'Name', Value: 'web' }, { Key: 'team', Value: 'a' }] }],
  }));
  assert.equal(retry.ReservationId, run.ReservationId);
  assert.equal(await leaseDigest(w), leases);
  assert.equal(await codeOf(ann.send(new RunInstancesCommand({ ImageId: ami, MinCount: 1, MaxCount: 1, ClientToken: 'sdk-run-1' }))), 'IdempotentParameterMismatch');
  await allIn(ann, ids, 'running');

  const spot = await ann.send(new RunInstancesCommand({ ImageId: ami, InstanceType: 't3.micro', MinCount: 2, MaxCount: 2, InstanceMarketOptions: { MarketType: 'spot' } }));
  const spotIds = spot.Instances!.map((i) => i.InstanceId!);
  await allIn(ann, spotIds, 'running');

  const byTag = await ann.send(new DescribeInstancesCommand({ Filters: [{ Name: 'tag:Name', Values: ['web'] }, { Name: 'instance-state-name', Values: ['running'] }] }));
  assert.deepEqual(byTag.Reservations!.flatMap((r) => r.Instances!.map((i) => i.InstanceId)).sort(), [...ids].sort());
  const byKey = await ann.send(new DescribeInstancesCommand({ Filters: [{ Name: 'tag-key', Values: ['team'] }] }));
  assert.equal(byKey.Reservations!.flatMap((r) => r.Instances!).length, 3);

  // 11 instances in pages of 5: three pages, every instance once.
  // (A lease's VMs are on distinct nodes, of which there are 4: two leases of 3.)
  const nanos: string[] = [];
  for (let k = 0; k < 2; k++) nanos.push(...(await ann.send(new RunInstancesCommand({ ImageId: ami, InstanceType: 't3.nano', MinCount: 3, MaxCount: 3 }))).Instances!.map((i) => i.InstanceId!));
  const seen: string[] = [];
  let pages = 0;
  for await (const page of paginateDescribeInstances({ client: ann, pageSize: 5 }, {})) {
    pages++;
    seen.push(...page.Reservations!.flatMap((r) => r.Instances!.map((i) => i.InstanceId!)));
  }
  assert.equal(pages, 3);
  assert.deepEqual(seen.sort(), [...ids, ...spotIds, ...nanos].sort());
  const first = await ann.send(new DescribeInstancesCommand({ MaxResults: 5, Filters: [{ Name: 'instance-type', Values: ['t3.nano'] }] }));
  const inPage = (r: typeof first) => r.Reservations!.flatMap((x) => x.Instances!.map((i) => i.InstanceId!));
  assert.equal(inPage(first).length, 5);
  const rest = await ann.send(new DescribeInstancesCommand({ MaxResults: 5, NextToken: first.NextToken, Filters: [{ Name: 'instance-type', Values: ['t3.nano'] }] }));
  assert.deepEqual([...inPage(first), ...inPage(rest)].sort(), [...nanos].sort());
  assert.equal(rest.NextToken, undefined);
  assert.equal(await codeOf(ann.send(new DescribeInstancesCommand({ MaxResults: 5, NextToken: 'forged' }))), 'InvalidParameterValue');
  await ann.send(new TerminateInstancesCommand({ InstanceIds: nanos }));

  await ann.send(new CreateTagsCommand({ Resources: [ids[0]], Tags: [{ Key: 'role', Value: 'head' }] }));
  await ann.send(new DeleteTagsCommand({ Resources: ids, Tags: [{ Key: 'team' }] }));
  const tags = await ann.send(new DescribeTagsCommand({ Filters: [{ Name: 'resource-id', Values: [ids[0]] }] }));
  assert.deepEqual(tags.Tags!.map((t) => [t.Key, t.Value]), [['Name', 'web'], ['role', 'head']]);

  // On-demand instances are immediate leases, which keep their window: vws does not suspend them.
  assert.equal(await codeOf(ann.send(new StopInstancesCommand({ InstanceIds: ids }))), 'IncorrectInstanceState');
  // A lease's VMs move together: naming some of them is refused, and nothing changes.
  assert.equal(await codeOf(ann.send(new TerminateInstancesCommand({ InstanceIds: [ids[0]] }))), 'InvalidParameterValue');
  assert.deepEqual(await states(ann, ids), ['running', 'running', 'running']);

  // vws suspends no lease in the very second it started (docs/ec2.md): a client retries, as on any IncorrectInstanceState.
  await waitFor('StopInstances accepted', async () => {
    try {
      await ann.send(new StopInstancesCommand({ InstanceIds: spotIds }));
      return true;
    } catch (e) {
      if (/this very instant/.test((e as Error).message)) return false;
      throw e;
    }
  });
  await allIn(ann, spotIds, 'stopped');
  await ann.send(new StartInstancesCommand({ InstanceIds: spotIds }));
  await allIn(ann, spotIds, 'running');
  await ann.send(new RebootInstancesCommand({ InstanceIds: spotIds }));

  const ended = await ann.send(new TerminateInstancesCommand({ InstanceIds: [...ids, ...spotIds] }));
  assert.deepEqual(ended.TerminatingInstances!.map((t) => t.PreviousState!.Name), ['running', 'running', 'running', 'running', 'running']);
  await allIn(ann, [...ids, ...spotIds], 'terminated');
});

test('key pairs: create, import, describe, duplicate, delete', async () => {
  await ann.send(new CreateKeyPairCommand({ KeyName: 'rsa-one' }));
  const pub = 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIGgmGUYBqpRPNcPkGR/oo2mjJWgiFZHt4+HLGpwu20zC me@host';
  const imported = await ann.send(new ImportKeyPairCommand({ KeyName: 'imported', PublicKeyMaterial: Buffer.from(pub) }));
  assert.match(imported.KeyFingerprint!, /^SHA256:/);
  assert.equal(await codeOf(ann.send(new ImportKeyPairCommand({ KeyName: 'imported', PublicKeyMaterial: Buffer.from(pub) }))), 'InvalidKeyPair.Duplicate');
  assert.equal(await codeOf(ann.send(new ImportKeyPairCommand({ KeyName: 'bad', PublicKeyMaterial: Buffer.from('ssh-ed25519 AAAAB3NzaC1yc2E=') }))), 'InvalidKeyPair.Format');
  const mine = await ann.send(new DescribeKeyPairsCommand({}));
  assert.deepEqual(mine.KeyPairs!.map((k) => [k.KeyName, k.KeyType]), [['imported', 'ed25519'], ['laptop', 'ed25519'], ['rsa-one', 'rsa']]);
  // Another user's key pairs are not seen, nor usable.
  assert.deepEqual((await bob.send(new DescribeKeyPairsCommand({}))).KeyPairs, []);
  assert.equal(await codeOf(bob.send(new RunInstancesCommand({ ImageId: ami, MinCount: 1, MaxCount: 1, KeyName: 'laptop' }))), 'InvalidKeyPair.NotFound');
  await ann.send(new DeleteKeyPairCommand({ KeyName: 'rsa-one' }));
  assert.equal(await codeOf(ann.send(new DescribeKeyPairsCommand({ KeyNames: ['rsa-one'] }))), 'InvalidKeyPair.NotFound');
});

test('refused, with EC2\'s code and nothing changed: wrong secret, clock 20 minutes off, another user\'s instance, unknown action and parameter, no capacity', async () => {
  const run = await ann.send(new RunInstancesCommand({ ImageId: ami, MinCount: 1, MaxCount: 1 }));
  const id = run.Instances![0].InstanceId!;
  await allIn(ann, [id], 'running');
  const before = await leaseDigest(w);
  const wrong = client({ accessKeyId: w.ann.accessKeyId, secretAccessKey: `${w.ann.secretAccessKey.slice(0, -1)}x` });
  assert.equal(await codeOf(wrong.send(new TerminateInstancesCommand({ InstanceIds: [id] }))), 'SignatureDoesNotMatch');
  const unknownKey = client({ accessKeyId: 'AKIAAAAAAAAAAAAAAAAA', secretAccessKey: w.ann.secretAccessKey });
  assert.equal(await codeOf(unknownKey.send(new TerminateInstancesCommand({ InstanceIds: [id] }))), 'AuthFailure');
  const late = client(w.ann, { systemClockOffset: -20 * 60 * 1000 });
  assert.equal(await codeOf(late.send(new TerminateInstancesCommand({ InstanceIds: [id] }))), 'RequestExpired');
  const otherRegion = client(w.ann, { region: 'us-east-1' });
  assert.equal(await codeOf(otherRegion.send(new TerminateInstancesCommand({ InstanceIds: [id] }))), 'AuthFailure');
  // Bob is told the instance does not exist, exactly as for an id nobody has.
  assert.equal(await codeOf(bob.send(new TerminateInstancesCommand({ InstanceIds: [id] }))), 'InvalidInstanceID.NotFound');
  assert.equal(await codeOf(bob.send(new DescribeInstancesCommand({ InstanceIds: [id] }))), 'InvalidInstanceID.NotFound');
  assert.equal(await codeOf(bob.send(new CreateTagsCommand({ Resources: [id], Tags: [{ Key: 'x', Value: 'y' }] }))), 'InvalidInstanceID.NotFound');
  assert.deepEqual((await bob.send(new DescribeInstancesCommand({}))).Reservations, []);
  const unknownAction = await signedQuery(w.endpoint, w.ann, { Action: 'TerminateEverything', 'InstanceId.1': id });
  assert.deepEqual([unknownAction.status, unknownAction.code], [400, 'InvalidAction']);
  const unknownParam = await signedQuery(w.endpoint, w.ann, { Action: 'TerminateInstances', 'InstanceId.1': id, Force: 'true' });
  assert.deepEqual([unknownParam.status, unknownParam.code], [400, 'UnknownParameter']);
  const tampered = await signedQuery(w.endpoint, w.ann, { Action: 'DescribeInstances' }, { tamper: (r) => { r.body = `Action=TerminateInstances&InstanceId.1=${id}&Version=2016-11-15`; r.headers['content-length'] = String(r.body.length); } });
  assert.deepEqual([tampered.status, tampered.code], [403, 'SignatureDoesNotMatch']);
  const unsigned = await signedQuery(w.endpoint, w.ann, { Action: 'DescribeInstances' }, { tamper: (r) => { delete r.headers.authorization; } });
  assert.deepEqual([unsigned.status, unsigned.code], [401, 'AuthFailure']);
  // 4 nodes of 4 CPUs: 5 t3.large (8 GiB each) never fit now; 1 to 5 of them launch as many as fit.
  assert.equal(await codeOf(ann.send(new RunInstancesCommand({ ImageId: ami, InstanceType: 't3.large', MinCount: 5, MaxCount: 5 }))), 'InsufficientInstanceCapacity');
  assert.equal(await codeOf(ann.send(new RunInstancesCommand({ ImageId: 'ami-00000000000000000', MinCount: 1, MaxCount: 1 }))), 'InvalidAMIID.NotFound');
  assert.equal(await codeOf(ann.send(new RunInstancesCommand({ ImageId: ami, InstanceType: 'x9.huge' as never, MinCount: 1, MaxCount: 1 }))), 'InvalidParameterValue');
  // An instance type below the image's minimum (docs/images.md) is the wrong value, as EC2 answers a type of another architecture than the AMI's.
  assert.equal((await w.call('PATCH', `/v1/images/${w.imageName}`, { description: { minimum: { memoryMiB: 2048 } } })).status, 200);
  const small = await signedQuery(w.endpoint, w.ann, { Action: 'RunInstances', ImageId: ami, InstanceType: 't3.micro', MinCount: '1', MaxCount: '1' });
  assert.deepEqual([small.status, small.code], [400, 'InvalidParameterValue']);
  assert.match(small.text, /image &apos;debian-12&apos; needs at least memoryMiB 2048 per VM, and a t3\.micro instance has memoryMiB 1024 &lt; 2048: ask for memoryMiB 2048 \(or more\): an instance type that large/);
  assert.equal((await w.call('PATCH', `/v1/images/${w.imageName}`, { description: null })).status, 200);
  assert.equal(await codeOf(ann.send(new RunInstancesCommand({ ImageId: ami, MinCount: 1, MaxCount: 1, UserData: 'not base64!' }))), 'InvalidParameterValue');
  assert.equal(await codeOf(ann.send(new DescribeInstancesCommand({ InstanceIds: ['i-nothex'] }))), 'InvalidInstanceID.Malformed');
  assert.equal(await leaseDigest(w), before);
  assert.deepEqual(await states(ann, [id]), ['running']);

  const some = await ann.send(new RunInstancesCommand({ ImageId: ami, InstanceType: 't3.large', MinCount: 1, MaxCount: 5 }));
  assert.ok(some.Instances!.length >= 1 && some.Instances!.length < 5, `launched ${some.Instances!.length}`);
  await ann.send(new TerminateInstancesCommand({ InstanceIds: [id, ...some.Instances!.map((i) => i.InstanceId!)] }));
});
