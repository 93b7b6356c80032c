// What the EC2 driver does with the instances it finds (moto's server as EC2): a restarted driver
// terminates and reports a stray and reports failed a VM whose instance went behind its back; a
// launch whose answer was lost is found again by its ClientToken rather than launched twice; each
// instance carries its tags, user-data and type, and its charge is kept.

import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { DescribeInstanceAttributeCommand, DescribeInstancesCommand, type Instance, RunInstancesCommand, TerminateInstancesCommand } from '@aws-sdk/client-ec2';
import type { VmSpec, VmStatus } from '../../../src/drivers/driver.ts';
import { Ec2Driver, TAG_LEASE, TAG_NODE, TAG_SERVICE, TAG_WORKSPACE } from '../../../src/drivers/ec2/ec2-driver.ts';
import { freePort } from '../../support/free-port.ts';
import { alice, AMI, motoDriver, sdk, siteConfig } from './moto-fixture.ts';

let n = 0;
function spec(node = 'ec2-us-east-1a', shape: Partial<VmSpec> = {}): VmSpec {
  const leaseId = `rec-${process.pid}-${++n}`;
  return { id: `${leaseId}/0`, leaseId, index: 0, node, cpu: 1, memoryMiB: 512, image: 'debian', mac: '52:54:00:00:00:01', ...shape };
}

async function instancesTagged(endpoint: string, key: string, value: string): Promise<Instance[]> {
  const r = await sdk(endpoint).send(new DescribeInstancesCommand({ Filters: [{ Name: `tag:${key}`, Values: [value] }] }));
  return (r.Reservations ?? []).flatMap((x) => x.Instances ?? []);
}

const live = (i: Instance): boolean => ['pending', 'running'].includes(i.State?.Name ?? '');

test('an instance carries its lease, workspace, service and node tags, its user-data and the smallest type that fits; its charge is kept', async () => {
  const userData = '#cloud-config\nhostname: ec2-test\n';
  const { driver, endpoint } = await motoDriver({ seedFor: () => ({ metaData: 'instance-id: x\n', userData, networkConfig: 'version: 2\n' }) });
  try {
    const vm = spec('ec2-us-east-1b', { cpu: 2, memoryMiB: 1536 });
    const running = await driver.start(vm);
    assert.equal(running.state, 'running');
    assert.ok(running.ip, 'the instance has an address');
    const [instance, ...more] = await instancesTagged(endpoint, TAG_WORKSPACE, vm.id);
    assert.equal(more.length, 0);
    const tags = Object.fromEntries(instance!.Tags!.map((t) => [t.Key, t.Value]));
    assert.deepEqual({ lease: tags[TAG_LEASE], service: tags[TAG_SERVICE], node: tags[TAG_NODE] }, { lease: vm.leaseId, service: driver.serviceId, node: 'ec2-us-east-1b' });
    assert.equal(instance!.InstanceType, 't3.small', '2 CPU and 1536 MiB: not t3.micro (1024 MiB), not c5.xlarge');
    assert.equal(instance!.ImageId, AMI);
    assert.equal(instance!.Placement?.AvailabilityZone, 'us-east-1b');
    const attr = await sdk(endpoint).send(new DescribeInstanceAttributeCommand({ InstanceId: instance!.InstanceId!, Attribute: 'userData' }));
    assert.equal(Buffer.from(attr.UserData!.Value!, 'base64').toString(), userData, "the seed's user-data, and only it");
    const [charge] = driver.charges(vm.leaseId);
    assert.deepEqual({ type: charge!.instanceType, price: charge!.pricePerHour, until: charge!.until, instance: charge!.instanceId }, { type: 't3.small', price: 0.0208, until: null, instance: instance!.InstanceId });
    assert.ok(charge!.billedSeconds >= 60 && charge!.amount >= (60 * 0.0208) / 3600);
    await driver.stop(vm.id, { graceful: true });
    const [after] = driver.charges(vm.leaseId);
    assert.notEqual(after!.until, null, 'the charge ends when the instance is terminated');
    assert.deepEqual((await instancesTagged(endpoint, TAG_WORKSPACE, vm.id)).map((i) => i.State?.Name), ['terminated']);
  } finally {
    await driver.close();
  }
});

test('a restarted driver terminates and reports a stray, and reports failed a VM whose instance was terminated behind its back', async () => {
  const first = await motoDriver();
  const { endpoint, dir } = first;
  const [kept, lost] = [spec(), spec('ec2-us-east-1b')];
  await first.driver.start(kept);
  await first.driver.start(lost);
  const serviceId = first.driver.serviceId;
  await first.driver.close(); // the service dies: its instances run on
  const ec2 = sdk(endpoint);
  const strayLease = `rec-${process.pid}-stray`;
  const launched = await ec2.send(new RunInstancesCommand({
    ImageId: AMI, InstanceType: 't3.micro', MinCount: 1, MaxCount: 1,
    TagSpecifications: [{ ResourceType: 'instance', Tags: [{ Key: TAG_SERVICE, Value: serviceId }, { Key: TAG_LEASE, Value: strayLease }, { Key: TAG_WORKSPACE, Value: `${strayLease}/0` }, { Key: TAG_NODE, Value: 'ec2-us-east-1a' }] }],
  }));
  const strayId = launched.Instances![0]!.InstanceId!;
  const [lostInstance] = await instancesTagged(endpoint, TAG_WORKSPACE, lost.id);
  await ec2.send(new TerminateInstancesCommand({ InstanceIds: [lostInstance!.InstanceId!] }));

  const again = await motoDriver({ dir });
  try {
    assert.equal(again.driver.serviceId, serviceId, 'the service id outlives the process, in the data dir');
    const strays: VmStatus[] = [];
    const changes: VmStatus[] = [];
    again.driver.onStray((vm) => strays.push(vm));
    again.driver.onChange((vm) => changes.push(vm));
    const vms = await again.driver.status();
    assert.deepEqual(vms.map((vm) => [vm.id, vm.state]), [[kept.id, 'running'], [lost.id, 'failed']].sort());
    assert.match(vms.find((vm) => vm.id === lost.id)!.detail!, new RegExp(`instance ${lostInstance!.InstanceId} was terminated behind the service's back`));
    assert.deepEqual(changes.map((vm) => [vm.id, vm.state]), [[lost.id, 'failed']], 'the vanished VM is reported, the kept one is not news');
    assert.deepEqual(strays.map((vm) => [vm.id, vm.state, vm.node]), [[`${strayLease}/0`, 'stopped', 'ec2-us-east-1a']]);
    assert.match(strays[0]!.detail!, new RegExp(`instance ${strayId} terminated: a stray`));
    const [stray] = await instancesTagged(endpoint, TAG_WORKSPACE, `${strayLease}/0`);
    assert.equal(stray!.State?.Name, 'terminated');
    assert.ok(live((await instancesTagged(endpoint, TAG_WORKSPACE, kept.id))[0]!), 'the VM the service has runs on');
    // The failed VM, stopped by the service as its lease fails, leaves nothing behind.
    await again.driver.stop(lost.id, { graceful: false });
    await again.driver.stop(kept.id, { graceful: false });
    assert.deepEqual(await again.driver.status(), []);
  } finally {
    await again.driver.close();
  }
});

test('a launch whose answer was lost (the service died mid-call) is found by its ClientToken: the retried start launches nothing more', async () => {
  const first = await motoDriver();
  const vm = spec();
  await first.driver.start(vm);
  await first.driver.close();
  // The state as it was saved just before RunInstances: the launch decided, its token kept, no instance id yet.
  const file = join(first.dir, 'ec2-vms.json');
  const saved = JSON.parse(readFileSync(file, 'utf8'));
  saved.vms[0].instanceId = null;
  saved.vms[0].status.state = 'starting';
  saved.charges = [];
  writeFileSync(file, JSON.stringify(saved));
  const again = await motoDriver({ dir: first.dir });
  try {
    const status = await again.driver.start(vm);
    assert.equal(status.state, 'running');
    const instances = await instancesTagged(first.endpoint, TAG_WORKSPACE, vm.id);
    // moto would launch a second instance for the same token: one instance means the driver did not ask.
    assert.equal(instances.length, 1, `one instance for ${vm.id}, got ${instances.map((i) => i.InstanceId).join(', ')}`);
    assert.equal(instances[0]!.ClientToken, saved.vms[0].clientToken);
    // After a stop the next start is a new attempt with a new token: a new instance.
    await again.driver.stop(vm.id, { graceful: true });
    await again.driver.start(vm);
    const after = await instancesTagged(first.endpoint, TAG_WORKSPACE, vm.id);
    assert.equal(after.filter(live).length, 1);
    assert.notEqual(after.find(live)!.ClientToken, saved.vms[0].clientToken);
    await again.driver.stop(vm.id, { graceful: true });
  } finally {
    await again.driver.close();
  }
});

test("a termination the service began before it died is found finished on restart: the VM is stopped, not failed", async () => {
  const first = await motoDriver();
  const vm = spec();
  await first.driver.start(vm);
  await first.driver.close();
  const [instance] = await instancesTagged(first.endpoint, TAG_WORKSPACE, vm.id);
  // The state as saved once the stop had begun: then TerminateInstances went out and the service died.
  const file = join(first.dir, 'ec2-vms.json');
  const saved = JSON.parse(readFileSync(file, 'utf8'));
  saved.vms[0].status.state = 'stopping';
  writeFileSync(file, JSON.stringify(saved));
  await sdk(first.endpoint).send(new TerminateInstancesCommand({ InstanceIds: [instance!.InstanceId!] }));
  const again = await motoDriver({ dir: first.dir });
  try {
    const changes: VmStatus[] = [];
    again.driver.onChange((s) => changes.push(s));
    assert.deepEqual(await again.driver.status(), []);
    assert.deepEqual(changes.map((s) => s.state), ['stopped']);
    assert.notEqual(again.driver.charges(vm.leaseId)[0]!.until, null, 'its charge ended');
  } finally {
    await again.driver.close();
  }
});

test('EC2 out of reach: status() says what was last seen and logs why, rather than failing the service or its VMs', async () => {
  const first = await motoDriver();
  const vm = spec();
  await first.driver.start(vm);
  await first.driver.close();
  const lines: string[] = [];
  const port = await freePort(); // nothing listens there
  const away = new Ec2Driver({ config: siteConfig(`http://127.0.0.1:${port}`), stateFile: join(first.dir, 'ec2-vms.json'), ownerOf: async () => alice, maxAttempts: 1, log: (l) => lines.push(l) });
  try {
    const changes: VmStatus[] = [];
    away.onChange((s) => changes.push(s));
    assert.deepEqual((await away.status()).map((s) => [s.id, s.state]), [[vm.id, 'running']]);
    assert.deepEqual(changes, []);
    assert.match(lines.join('\n'), /ec2: the instances could not be looked at: account key:AKIAVWSTESTALICE0001: .*ECONNREFUSED/);
  } finally {
    await away.close();
  }
  const back = await motoDriver({ dir: first.dir });
  await back.driver.stop(vm.id, { graceful: false });
  await back.driver.close();
});
