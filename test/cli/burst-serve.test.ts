// One service over two back-ends, as a process: `vws serve` with a simulated pool and
// `--burst-to ec2` on moto's server. A lease goes to the pool while the pool meets its start, and
// to EC2 otherwise if its owner has an account there; a quote shows both options with their starts
// and prices; an owner without an account stays on the pool; a lease may name its back-end; a
// restart finds each lease where it was (no instance taken for a stray); cancelling a burst lease
// terminates its instance, and what EC2 charged stays with the lease.

import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { EC2Client } from '@aws-sdk/client-ec2';
import { instancesOf, type Moto, startMoto } from '../support/moto.ts';
import { validateSchedule } from '../support/validate-schedule.ts';
import { waitFor } from '../support/wait.ts';
import { type Answer, apiCall, BOOTSTRAP_TOKEN, freePort, startServer, type RealServer, vws } from './client/real-server.ts';

const KEYS = { accessKeyId: 'AKIAVWSBURSTALICE001', secretAccessKey: 'alice-secret' };
const dir = mkdtempSync(join(tmpdir(), 'vws-burst-'));
let moto: Moto | null = null;
let server: RealServer | null = null;
after(async () => {
  await server?.kill();
  await moto?.stop();
  rmSync(dir, { recursive: true, force: true });
});

const call = (token: string, method: string, path: string, body?: unknown, raw?: Buffer): Promise<Answer> => apiCall(server!, token, method, path, body, raw);

/** EC2's minimum charge for a t3.micro, as the service rounds amounts (to nine decimals). */
const A_MINUTE = Math.floor(((60 * 0.0104) / 3600) * 1e9) / 1e9;

const SMALL = { kind: 'best-effort', duration: 3600, nodes: 1, cpu: 1, memoryMiB: 1024, image: 'debian' };

test('a lease runs on the pool while the pool meets its start, else on EC2 for an owner with an account; quotes show both; a restart keeps each where it is', async () => {
  moto = await startMoto();
  const file = join(dir, 'ec2.json');
  writeFileSync(file, JSON.stringify({
    endpoint: moto.endpoint, region: 'us-east-1',
    instanceTypes: [{ name: 't3.micro', cpu: 2, memoryMiB: 1024, pricePerHour: 0.0104 }, { name: 'm5.large', cpu: 2, memoryMiB: 8192, pricePerHour: 0.096 }],
    images: { debian: 'ami-12c6146b' },
    accounts: { users: { alice: KEYS } },
    slots: 4, unitsPerDollar: 100,
  }));
  const args = ['--nodes', '1', '--node-cpu', '2', '--node-memory', '4096', '--burst-to', 'ec2', '--ec2-config', file];
  const port = await freePort();
  server = await startServer(join(dir, 'data'), port, args);
  assert.match(server.output(), /driver simulated, bursting to ec2/);
  const admin = BOOTSTRAP_TOKEN;
  const token: Record<string, string> = {};
  for (const name of ['alice', 'bob']) {
    assert.equal((await call(admin, 'POST', '/v1/users', { name })).status, 201);
    token[name] = (await call(admin, 'POST', `/v1/users/${name}/tokens`, {})).body.token;
  }
  const content = Buffer.alloc(1024 * 1024);
  assert.equal((await call(admin, 'POST', '/v1/images', { name: 'debian', sizeMiB: 1, sha256: createHash('sha256').update(content).digest('hex'), visibility: 'public' })).status, 201);
  assert.ok((await call(admin, 'PUT', '/v1/images/debian/content', undefined, content)).status < 300);

  const backends = await call(token.bob, 'GET', '/v1/backends');
  assert.equal(backends.status, 200, JSON.stringify(backends.body));
  assert.deepEqual(backends.body.backends.map((b: { name: string; bills: boolean; mayRun: boolean | null }) => [b.name, b.bills, b.mayRun]), [['simulated', false, null], ['ec2', true, false]]);
  assert.match(backends.body.backends[1].why, /user bob may not run on EC2: no account/);
  assert.equal((await call(token.alice, 'GET', '/v1/backends')).body.backends[1].mayRun, true);

  // The pool is free: it meets the start, so the lease stays there.
  const first = await call(token.alice, 'POST', '/v1/leases', { ...SMALL, kind: 'immediate', cpu: 2, memoryMiB: 2048 });
  assert.equal(first.status, 201, JSON.stringify(first.body));
  assert.equal(first.body.lease.backend, 'simulated');

  // Now the pool is full for an hour: the quote shows both options, EC2 now at its price.
  const quote = await call(token.alice, 'POST', '/v1/leases/quote', SMALL);
  assert.equal(quote.status, 200, JSON.stringify(quote.body));
  assert.equal(quote.body.backend, 'ec2');
  const [onPool, onEc2] = quote.body.options;
  assert.deepEqual([onPool.backend, onPool.ok, onPool.chosen, onEc2.backend, onEc2.ok, onEc2.chosen], ['simulated', true, false, 'ec2', true, true]);
  assert.ok(onPool.start >= first.body.lease.plannedEnd, `the pool starts it once the first lease ends: ${JSON.stringify(quote.body)}`);
  assert.ok(onEc2.start < onPool.start);
  assert.deepEqual(onPool.price, { amount: 1, unit: 'SU' }, 'one core for an hour on the pool');
  assert.deepEqual(onEc2.price, { amount: 1.04, unit: 'SU', dollars: 0.0104 }, 'an hour of t3.micro, at 100 SU a dollar');

  // The same, as a person at a shell reads it.
  const aliceConfig = join(dir, 'alice.json');
  writeFileSync(aliceConfig, JSON.stringify({ server: server.url, token: token.alice }));
  const shown = vws(aliceConfig, 'lease', 'quote', '--kind', 'best-effort', '--nodes', '1', '--cpu', '1', '--memory', '1024', '--duration', '1h', '--image', 'debian');
  assert.equal(shown.status, 0, shown.stderr);
  assert.match(shown.stdout, /on each back-end \(--backend NAME to choose\):\n {2}simulated: from .* to .*, 1 SU\n {2}ec2: from .*, 1\.04 SU = 0\.0104 USD {2}<- the site's choice/);
  const listed = vws(aliceConfig, 'backends');
  assert.match(listed.stdout, /^BACKEND\s+NODES\s+CAPABILITIES\s+PRICE\s+YOU MAY RUN\nsimulated \(pool\)\s+1\s+\S+\s+1 SU\/core-hour\s+yes\nec2\s+4\s+-\s+per instance, 100 SU\/USD\s+yes/);

  // Bob has no EC2 account: his lease waits on the pool, and his quote says why EC2 is not an option.
  const bobQuote = await call(token.bob, 'POST', '/v1/leases/quote', SMALL);
  assert.equal(bobQuote.body.backend, 'simulated');
  assert.equal(bobQuote.body.options[1].reason, 'policy');
  assert.match(bobQuote.body.options[1].message, /may not run on EC2/);
  const bobs = await call(token.bob, 'POST', '/v1/leases', SMALL);
  assert.equal(bobs.status, 201, JSON.stringify(bobs.body));
  assert.equal(bobs.body.lease.backend, 'simulated');
  const bobNamesEc2 = await call(token.bob, 'POST', '/v1/leases', { ...SMALL, backend: 'ec2' });
  assert.equal(bobNamesEc2.status, 409, JSON.stringify(bobNamesEc2.body));
  assert.doesNotMatch(bobNamesEc2.body.message, /\.json/, 'the site\'s files are not named to users');
  assert.equal(bobNamesEc2.body.code, 'policy');

  // A lease may name its back-end: alice keeps one on the pool though it must wait there.
  const named = await call(token.alice, 'POST', '/v1/leases', { ...SMALL, backend: 'simulated' });
  assert.equal(named.body.lease.backend, 'simulated');
  const mars = await call(token.alice, 'POST', '/v1/leases', { ...SMALL, backend: 'mars' });
  assert.equal(mars.status, 422, JSON.stringify(mars.body));
  assert.match(mars.body.message, /no back-end 'mars': this site has simulated, ec2/);

  // Alice's next lease bursts: it runs as an instance now, and is charged by EC2's model.
  const burst = await call(token.alice, 'POST', '/v1/leases', SMALL);
  assert.equal(burst.status, 201, JSON.stringify(burst.body));
  const leaseId = burst.body.lease.id as string;
  assert.equal(burst.body.lease.backend, 'ec2');
  assert.equal(burst.body.lease.spec.backend, 'ec2', 'the choice is part of the lease as logged');
  let last: unknown;
  await waitFor(`lease ${leaseId} running on EC2`, async () => {
    const got = await call(token.alice, 'GET', `/v1/leases/${leaseId}`);
    last = got.body;
    return got.body.workspaces?.[0]?.status === 'running' ? got.body : undefined;
  }, { everyMs: 100, seen: () => last });
  const ec2 = new EC2Client({ endpoint: moto.endpoint, region: 'us-east-1', credentials: KEYS });
  const [instance, ...more] = await instancesOf(ec2, leaseId);
  assert.equal(more.length, 0);
  assert.equal(instance!.InstanceType, 't3.micro');
  const charged = (await call(token.alice, 'GET', `/v1/leases/${leaseId}`)).body.charge;
  assert.ok(charged.dollars >= A_MINUTE, `at least EC2's minute: ${JSON.stringify(charged)}`);
  assert.ok(Math.abs(charged.amount - charged.dollars * 100) < 1e-6, `in the site's unit at 100 a dollar: ${JSON.stringify(charged)}`);

  // A restart replays each lease onto its back-end and finds the instance its own.
  await server.kill();
  server = await startServer(join(dir, 'data'), port, args);
  const again = await call(token.alice, 'GET', `/v1/leases/${leaseId}`);
  assert.equal(again.body.backend, 'ec2');
  assert.equal(again.body.workspaces[0].status, 'running');
  assert.equal((await call(token.bob, 'GET', `/v1/leases/${bobs.body.lease.id}`)).body.backend, 'simulated');
  const after = await instancesOf(ec2, leaseId);
  assert.deepEqual(after.map((i) => [i.InstanceId, i.State?.Name]), [[instance!.InstanceId, 'running']], 'the same instance runs on, not taken for a stray');

  // A cluster bursts whole: each member is an instance of its own, on a slot of its own.
  const role = (name: string, count: number, requires: string[]) => ({ name, count, cpu: 1, memoryMiB: 1024, image: 'debian', networks: ['public'], provides: [], requires });
  const cluster = await call(token.alice, 'POST', '/v1/leases', { kind: 'best-effort', duration: 3600, roles: [role('head', 1, []), role('worker', 2, ['head.ip'])] });
  assert.equal(cluster.status, 201, JSON.stringify(cluster.body));
  assert.equal(cluster.body.lease.backend, 'ec2');
  const clusterId = cluster.body.lease.id as string;
  const members = await waitFor(`cluster ${clusterId}'s three instances`, async () => {
    const got = await instancesOf(ec2, clusterId);
    return got.length === 3 ? got : undefined;
  }, { everyMs: 100 });
  assert.deepEqual(members.map((i) => i.Tags!.find((t) => t.Key === 'vws:workspace')!.Value).sort(), [0, 1, 2].map((k) => `${clusterId}/${k}`));
  assert.equal(new Set(members.map((i) => i.Tags!.find((t) => t.Key === 'vws:node')!.Value)).size, 3, 'three slots');
  assert.equal((await call(token.alice, 'DELETE', `/v1/leases/${clusterId}`)).status, 200);

  assert.equal((await call(token.alice, 'DELETE', `/v1/leases/${leaseId}`)).status, 200);
  await waitFor(`instance ${instance!.InstanceId} terminated`, async () => (await instancesOf(ec2, leaseId))[0]?.State?.Name === 'terminated', { everyMs: 100 });
  const usage = await call(token.alice, 'GET', '/v1/usage');
  assert.ok(usage.body.users.alice.dollars >= A_MINUTE, JSON.stringify(usage.body));
  assert.equal(usage.body.unit, 'SU');
});

test('--burst-to needs a back-end that brings its own capacity, and --burst-after needs --burst-to', async () => {
  const { spawnSync } = await import('node:child_process');
  const { bin, root } = await import('../support/vws-bin.ts');
  const run = (...a: string[]) => spawnSync(process.execPath, [bin, 'serve', '--data', join(dir, 'bad'), '--listen', '127.0.0.1:0', ...a], { cwd: root, encoding: 'utf8', timeout: 60_000 });
  assert.match(run('--burst-to', 'qemu').stderr, /--burst-to qemu: that driver runs on nodes the site adds; only a back-end that brings its own capacity \(ec2\)/);
  assert.match(run('--burst-to', 'simulated').stderr, /--burst-to simulated is the pool's own driver/);
  assert.match(run('--burst-after', '60').stderr, /--burst-after goes with --burst-to/);
  assert.match(run('--burst-to', 'ec2', '--burst-after', '1.5', '--ec2-config', 'x').stderr, /--burst-after/);
});

test('with --burst-after, a best-effort lease waits on the pool and moves to EC2 only if it has not begun by then', async () => {
  moto ??= await startMoto();
  const file = join(dir, 'ec2-after.json');
  writeFileSync(file, JSON.stringify({
    endpoint: moto.endpoint, region: 'us-east-1', slots: 2,
    instanceTypes: [{ name: 't3.micro', cpu: 2, memoryMiB: 1024, pricePerHour: 0.0104 }],
    // The SDK marks the credentials objects it is given: the file gets the keys alone.
    images: { debian: 'ami-12c6146b' }, accounts: { users: { admin: { accessKeyId: KEYS.accessKeyId, secretAccessKey: KEYS.secretAccessKey } } },
  }));
  await server?.kill();
  server = await startServer(join(dir, 'data-after'), await freePort(), ['--nodes', '1', '--node-cpu', '2', '--node-memory', '4096', '--burst-to', 'ec2', '--burst-after', '3', '--ec2-config', file]);
  const admin = BOOTSTRAP_TOKEN;
  const content = Buffer.alloc(1024 * 1024);
  assert.equal((await call(admin, 'POST', '/v1/images', { name: 'debian', sizeMiB: 1, sha256: createHash('sha256').update(content).digest('hex'), visibility: 'public' })).status, 201);
  assert.ok((await call(admin, 'PUT', '/v1/images/debian/content', undefined, content)).status < 300);
  assert.equal((await call(admin, 'POST', '/v1/leases', { ...SMALL, kind: 'immediate', cpu: 2 })).body.lease.backend, 'simulated');
  const quote = await call(admin, 'POST', '/v1/leases/quote', SMALL);
  assert.equal(quote.body.backend, 'simulated', 'it waits on the pool first');
  assert.equal(quote.body.burst.backend, 'ec2');
  const made = await call(admin, 'POST', '/v1/leases', SMALL);
  assert.equal(made.status, 201, JSON.stringify(made.body));
  const id = made.body.lease.id as string;
  assert.equal(made.body.lease.backend, 'simulated');
  assert.equal(made.body.lease.burst.backend, 'ec2');
  assert.ok(made.body.lease.burst.at >= made.body.lease.createdAt + 3);
  let last: unknown;
  const moved = await waitFor(`lease ${id} moved to EC2 and running`, async () => {
    const got = await call(admin, 'GET', `/v1/leases/${id}`);
    last = got.body;
    return got.body.backend === 'ec2' && got.body.workspaces?.[0]?.status === 'running' ? got.body : undefined;
  }, { everyMs: 200, seen: () => last });
  assert.equal(moved.burst, undefined, 'once moved, nothing is left to burst');
  assert.ok(moved.actualStart >= made.body.lease.burst.at, 'it began on EC2 no earlier than its burst time');
  const ec2 = new EC2Client({ endpoint: moto.endpoint, region: 'us-east-1', credentials: KEYS });
  assert.equal((await instancesOf(ec2, id)).length, 1);
  // The export has the moved lease once, where it ran, and passes the shared checker.
  const schedule = await (await fetch(`${server!.url}/v1/schedule`, { headers: { authorization: `Bearer ${admin}` } })).text();
  assert.equal(schedule.split('\n').filter((l) => l.startsWith(`{"id":"${id}"`)).length, 1);
  const checked = validateSchedule(schedule);
  assert.equal(checked.status, 0, checked.output);
  await server!.kill();
  server = null;
});
