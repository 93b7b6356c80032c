// The lease service on the EC2 driver (moto as EC2): the scheduler plans no suspension the driver
// cannot do (a reservation requeues the preemptible lease in its way, whose instance is
// terminated), and a lease whose owner has no EC2 account fails at once with the reason.

import assert from 'node:assert/strict';
import { join } from 'node:path';
import { test } from 'node:test';
import { DescribeInstancesCommand, type Instance, RunInstancesCommand, TerminateInstancesCommand } from '@aws-sdk/client-ec2';
import { configWith } from '../../../src/core/config.ts';
import type { LeaseRequest } from '../../../src/core/types.ts';
import { ManualClock } from '../../../src/control/clock.ts';
import { LeaseService } from '../../../src/control/lease-service.ts';
import { Ec2Driver } from '../../../src/drivers/ec2/ec2-driver.ts';
import { leaseOwners } from '../../../src/drivers/ec2/lease-owners.ts';
import { openSqliteStore } from '../../../src/store/sqlite-store.ts';
import type { Store } from '../../../src/store/store.ts';
import { waitFor } from '../../support/wait.ts';
import { TAG_LEASE, TAG_SERVICE, TAG_WORKSPACE } from '../../../src/drivers/ec2/ec2-driver.ts';
import { AMI, sdk, siteConfig, tempDir, theMoto } from './moto-fixture.ts';

const T0 = 1_800_000_000;
const whole = { cpu: 1, memoryMiB: 1024, diskMiB: 0 };
const image = { id: 'debian', sizeMiB: 100 };
const be = (id: string): LeaseRequest => ({ id, kind: 'best-effort', arrival: 0, requestedStart: null, duration: 3 * 3600, nodes: 1, perNode: whole, preemptible: true, image });

async function instancesOf(endpoint: string, leaseId: string): Promise<Instance[]> {
  const r = await sdk(endpoint).send(new DescribeInstancesCommand({ Filters: [{ Name: `tag:${TAG_LEASE}`, Values: [leaseId] }] }));
  return (r.Reservations ?? []).flatMap((x) => x.Instances ?? []);
}

async function serviceOnEc2(again?: { dir: string; store: Store; clock: ManualClock }) {
  const { endpoint } = await theMoto();
  const dir = again?.dir ?? tempDir();
  const store = again?.store ?? await openSqliteStore(join(dir, 'vws.db'));
  // Zones as small as one lease, so that a reservation must take one from a best-effort lease.
  const driver = new Ec2Driver({ config: siteConfig(endpoint, { nodeCapacity: { cpu: 1, memoryMiB: 1024 } }), stateFile: join(dir, 'ec2-vms.json'), ownerOf: leaseOwners(store), pollMs: 20 });
  const calls: string[] = [];
  for (const op of ['suspend', 'resume', 'migrate', 'liveMigrate'] as const) {
    const real = driver[op].bind(driver) as (...a: unknown[]) => Promise<unknown>;
    (driver as unknown as Record<string, unknown>)[op] = (...a: unknown[]) => (calls.push(op), real(...a));
  }
  const clock = again?.clock ?? new ManualClock(T0);
  const service = await LeaseService.open({ store, driver, clock, config: configWith({}) });
  if (!again) for (const node of driver.nodes()) assert.ok((await service.pool.addNode(node)).ok);
  return { endpoint, dir, store, driver, clock, service, calls };
}

test('on EC2 a reservation requeues the preemptible lease in its way, whose instance is terminated: nothing is ever suspended', async () => {
  const { endpoint, store, clock, service, calls, driver } = await serviceOnEc2();
  try {
    const [job, other] = [`fit-${process.pid}-job`, `fit-${process.pid}-other`];
    assert.ok((await service.create('alice', null, be(job))).ok);
    assert.ok((await service.create('alice', null, be(other))).ok);
    await service.idle();
    for (const id of [job, other]) assert.deepEqual((await instancesOf(endpoint, id)).map((i) => i.State?.Name), ['running'], `${id} runs as an instance`);
    const ar = await service.create('alice', null, { id: `fit-${process.pid}-ar`, kind: 'exact', arrival: 0, requestedStart: T0 + 3600, duration: 1800, nodes: 1, perNode: whole, preemptible: false, image });
    assert.ok(ar.ok && ar.value.decision.ok, JSON.stringify(ar));
    const preempted = ar.value.decision.preempted ?? [];
    assert.deepEqual(preempted.map((p) => p.how), ['requeue']);
    clock.advance(3600);
    await service.idle();
    assert.equal((await store.getLease(`fit-${process.pid}-ar`))?.status, 'running');
    assert.deepEqual((await instancesOf(endpoint, preempted[0]!.leaseId)).map((i) => i.State?.Name), ['terminated'], 'the requeued lease\'s instance is gone, not stopped');
    assert.deepEqual(calls, []);
    const refused = await service.act(job, 'suspend');
    assert.ok(!refused.ok && /the ec2 driver cannot suspend VMs to a file/.test(refused.message), JSON.stringify(refused));
    assert.equal(driver.charges(preempted[0]!.leaseId).length, 1, 'its instance was charged');
  } finally {
    await service.close();
    await driver.close();
  }
});

test('a lease whose owner has no EC2 account fails at once, saying why; nothing is launched', async () => {
  const { endpoint, store, service, driver } = await serviceOnEc2();
  try {
    const id = `fit-${process.pid}-bob`;
    assert.ok((await service.create('bob', null, be(id))).ok);
    await service.idle();
    const lease = await store.getLease(id);
    assert.equal(lease?.status, 'failed');
    assert.match(lease!.reason!.message, /user bob may not run on EC2: no account in the EC2 site configuration/);
    assert.deepEqual(await instancesOf(endpoint, id), []);
  } finally {
    await service.close();
    await driver.close();
  }
});

test('a shape no instance type fits, or an image without an AMI, is refused at quote and create time, saying why', async () => {
  const { store, service, driver } = await serviceOnEc2();
  try {
    const big = { ...be(`fit-${process.pid}-big`), perNode: { cpu: 64, memoryMiB: 1024, diskMiB: 0 } };
    const quote = await service.quote(big);
    assert.ok(!quote.ok);
    assert.match(quote.message, /cannot run on the ec2 driver \(its VMs\): no instance type of the site fits 64 CPU and 1024 MiB: the types are t3\.micro/);
    const centos = { ...be(`fit-${process.pid}-centos`), image: { id: 'centos', sizeMiB: 100 } };
    const created = await service.create('alice', null, centos);
    assert.ok(!created.ok && /image 'centos' has no AMI in the EC2 site configuration/.test(created.message), JSON.stringify(created));
    assert.equal(await store.getLease(centos.id), null, 'nothing was kept');
  } finally {
    await service.close();
    await driver.close();
  }
});

test('a restarted service fails the lease whose instance went behind its back, keeps the other, and terminates and reports a stray', async () => {
  const first = await serviceOnEc2();
  const { endpoint, store, clock, dir } = first;
  const [kept, lost] = [`fit-${process.pid}-kept`, `fit-${process.pid}-lost`];
  assert.ok((await first.service.create('alice', null, be(kept))).ok);
  assert.ok((await first.service.create('alice', null, be(lost))).ok);
  await first.service.idle();
  const serviceId = first.driver.serviceId;
  await first.service.close();
  await first.driver.close(); // the service dies; its instances run on
  const ec2 = sdk(endpoint);
  await ec2.send(new TerminateInstancesCommand({ InstanceIds: [(await instancesOf(endpoint, lost))[0]!.InstanceId!] }));
  const strayLease = `fit-${process.pid}-stray`;
  await ec2.send(new RunInstancesCommand({
    ImageId: AMI, InstanceType: 't3.micro', MinCount: 1, MaxCount: 1,
    TagSpecifications: [{ ResourceType: 'instance', Tags: [{ Key: TAG_SERVICE, Value: serviceId }, { Key: TAG_LEASE, Value: strayLease }, { Key: TAG_WORKSPACE, Value: `${strayLease}/0` }] }],
  }));
  const second = await serviceOnEc2({ dir, store, clock });
  try {
    await second.service.idle();
    const failed = await waitFor(`lease ${lost} failed`, async () => {
      const l = await store.getLease(lost);
      return l?.status === 'failed' ? l : undefined;
    });
    assert.match(failed.reason!.message, /was terminated behind the service's back/);
    assert.equal((await store.getLease(kept))?.status, 'running');
    assert.deepEqual((await instancesOf(endpoint, kept)).map((i) => i.State?.Name), ['running']);
    assert.deepEqual((await instancesOf(endpoint, strayLease)).map((i) => i.State?.Name), ['terminated']);
    const strays = await waitFor('the stray reported', async () => {
      const found = (await store.eventsAfter(0, 10_000)).filter((e) => e.type === 'workspace.stray');
      return found.length > 0 ? found : undefined;
    });
    assert.deepEqual(strays.map((e) => (e.data as { vm: string }).vm), [`${strayLease}/0`]);
  } finally {
    await second.service.close();
    await second.driver.close();
  }
});
