// A virtual cluster end to end with real VMs (test/e2e/cluster-pool.ts: `vws serve --driver qemu`,
// two `vws agent` processes in network namespaces, a cluster network per cluster spanning both by
// VXLAN). One head (public + private) and two workers (private only) boot the Debian guest (stock
// cloud-init, nothing of vws baked in) from their NoCloud seeds; each member's context agent
// reaches the broker through its node's context relay; the head's user-data exports a directory
// over NFS and provides it, and a hook on the workers mounts it and leaves a file there. Then an
// advance reservation of both nodes suspends the whole cluster, and it resumes after it with its
// context intact and its NFS mounts working.
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { CLUSTER_RANGE_PREFIX, ClusterPool, type ClusterView, eventually, membersOf, MINUTE, nfsClusterYaml } from './cluster-pool.ts';

/** Guards against a hang only (three TCG guests on a shared machine); nothing asserts how fast. */
const CONTEXT_DEADLINE = 15 * MINUTE;

let pool: ClusterPool;

before(async () => {
  // Two CPUs each: no node holds the whole cluster, so its private network spans both.
  pool = await ClusterPool.start('vc', 2, 1536);
});

after(async () => {
  await pool?.close();
});

/** What each member knows of the others: names resolve to the members' addresses, the head's host key is the one its sshd has. */
function checkContext(l: ClusterView, when: string): void {
  const [head] = membersOf(l, 'head');
  const workers = membersOf(l, 'worker');
  const headKey = pool.onPublic(head, 'cat /etc/ssh/ssh_host_ed25519_key.pub').trim().split(' ').slice(0, 2).join(' ');
  // A member's own name is its loopback line (cloud-init's manage_etc_hosts: localhost); the others' are the context's.
  const resolve = (on: (command: string) => string, name: string): string => on(`getent hosts ${name}`).trim().split(/\s+/)[0];
  const headPrivate = resolve((c) => pool.onPrivate(head, workers[0], c), head.hostname);
  assert.ok(headPrivate.startsWith(CLUSTER_RANGE_PREFIX), `${when}: the head's name resolves to its private address, not ${headPrivate}`);
  for (const w of workers) {
    assert.equal(resolve((c) => pool.onPublic(head, c), w.hostname), w.ip, `${when}: the head resolves ${w.hostname}`);
    for (const other of [head, ...workers].filter((o) => o !== w)) {
      assert.equal(resolve((c) => pool.onPrivate(head, w, c), other.hostname), other === head ? headPrivate : other.ip, `${when}: ${w.hostname} resolves ${other.hostname}`);
    }
    const known = pool.onPrivate(head, w, `ssh-keygen -F ${head.hostname} -f /etc/ssh/ssh_known_hosts`);
    assert.ok(known.includes(headKey), `${when}: ${w.hostname} has the head's host key in its known_hosts:\n${known}`);
  }
}

test('a head and two workers on two nodes: names, host keys and an NFS export shared through their context; a reservation suspends the whole cluster and it resumes intact', { timeout: 40 * MINUTE }, async () => {
  const spec = join(pool.dir, 'cluster.yaml');
  writeFileSync(spec, nfsClusterYaml(pool.ownerKey));
  const created = (pool.cli('lease', 'create', '-f', spec) as { lease: ClusterView }).lease;
  const complete = await pool.leaseUntil(created.id, 'had its context', (l) => {
    if (l.context?.status === 'failed') throw new Error(`the cluster's context failed: ${l.context.reason}\n${pool.logs()}`);
    return l.context?.status === 'complete';
  }, CONTEXT_DEADLINE);
  assert.equal(new Set(complete.workspaces!.map((w) => w.node)).size, 2, 'the cluster spans both nodes (its private network crosses the VXLAN)');
  for (const w of complete.workspaces!) assert.equal(w.context?.state, 'complete', `${w.hostname}: ${JSON.stringify(w.context)}`);
  const [head] = membersOf(complete, 'head');
  const workers = membersOf(complete, 'worker');
  assert.equal(workers.length, 2);
  await eventually('ssh to the head', () => pool.onPublic(head, 'true'));
  checkContext(complete, 'once complete');
  const shared = pool.onPublic(head, 'ls /srv/shared').split('\n').filter(Boolean).sort();
  assert.deepEqual(shared, workers.map((w) => w.hostname).sort(), 'each worker mounted the head\'s export and wrote its file, which the head sees');
  // Nothing else runs yet: these are the cluster's three VMs.
  const clusterQemus = pool.qemuPids();
  assert.equal(clusterQemus.length, 3);

  // 2. A reservation of both whole nodes: the cluster (best-effort, preemptible) is suspended as a
  // whole before it starts, and resumed as a whole after it.
  const arSpec = ['--kind', 'exact', '--duration', '40s', '--nodes', '2', '--cpu', '2', '--memory', '128', '--image', 'busybox'];
  // Far enough ahead for the cluster's suspension and the reservation's boots as the service has
  // measured them on these nodes (TCG, a loaded machine); the earliest start offered otherwise.
  type Offer = { ok: boolean; start?: number; earliestStart?: number; preempted?: Array<{ leaseId: string; how: string }> };
  const quote = (at: number): Offer => pool.cli('lease', 'quote', ...arSpec, '--start', String(at)) as Offer;
  let offer = quote(Math.floor(Date.now() / 1000) + 180);
  if (!offer.ok) offer = quote(offer.earliestStart!);
  process.stderr.write(`reservation offer: ${JSON.stringify(offer)}\n`);
  assert.ok(offer.ok && offer.preempted?.some((p) => p.leaseId === created.id && p.how === 'suspend'), `the reservation is offered by suspending the cluster: ${JSON.stringify(offer)}`);
  const ar = (pool.cli('lease', 'create', ...arSpec, '--start', String(offer.start)) as { lease: ClusterView }).lease;
  const suspended = await pool.leaseUntil(created.id, 'was suspended', (l) => l.workspaces!.every((w) => w.status === 'suspended'), 10 * MINUTE);
  for (const w of suspended.workspaces!) assert.equal(w.status, 'suspended', 'never half a cluster');
  // By pid: the reservation's VMs may be booting already.
  assert.deepEqual(pool.qemuPids().filter((pid) => clusterQemus.includes(pid)), [], 'no QEMU of the cluster runs while it is suspended');
  await pool.leaseUntil(ar.id, 'ran', (l) => l.status === 'running', 5 * MINUTE);
  const resumed = await pool.leaseUntil(created.id, 'resumed', (l) => l.status === 'running' && l.workspaces!.every((w) => w.status === 'running' && w.ip !== null), 15 * MINUTE);
  const [headAgain] = membersOf(resumed, 'head');
  assert.equal(headAgain.ip, head.ip, 'the head kept its public address');
  for (const w of membersOf(resumed, 'worker')) assert.equal(w.ip, workers.find((o) => o.index === w.index)!.ip, `${w.hostname} kept its private address`);
  await eventually('ssh to the resumed head', () => pool.onPublic(headAgain, 'true'));
  process.stderr.write(`members ran on ${complete.workspaces!.map((w) => `${w.hostname}@${w.node}`).join(', ')}; resumed on ${resumed.workspaces!.map((w) => `${w.hostname}@${w.node}`).join(', ')}\n`);
  // The members' neighbours relearn where each now runs from its first frames (QEMU announces a
  // restored guest): a moment, not a failure.
  await eventually('the context after the resumption', () => checkContext(resumed, 'after the resumption'), 2 * MINUTE).catch((e: Error) => {
    throw new Error(`${e.message}\n${pool.networkState()}`, { cause: e });
  });
  assert.equal(resumed.context?.status, 'complete', 'its context is still complete');
  // The mounts survived the pause: each worker writes through its mount again and the head reads it.
  for (const w of membersOf(resumed, 'worker')) {
    await eventually(`${w.hostname} writes to the export after the resumption`, () => pool.onPrivate(headAgain, w, `echo after > /mnt/shared/after-${w.hostname}`));
    assert.equal(pool.onPublic(headAgain, `cat /srv/shared/after-${w.hostname}`).trim(), 'after');
  }

  // 3. Cancelled: no QEMU process, tap or cluster network left on either node.
  assert.equal(pool.vws('lease', 'cancel', created.id).status, 0);
  await pool.leaseUntil(created.id, 'was cancelled', (l) => l.status === 'cancelled', 2 * MINUTE);
  await pool.leaseUntil(ar.id, 'ended', (l) => l.status === 'done', 3 * MINUTE);
  const end = Date.now() + 2 * MINUTE;
  while (pool.leftovers().length > 0) {
    if (Date.now() > end) assert.deepEqual(pool.leftovers(), [], 'nothing of the cluster left on the nodes');
    await new Promise((resolve) => setTimeout(resolve, 500));
  }
});
