// npm run bench:cluster-boot — a virtual cluster of one head and two workers under QEMU (TCG here),
// from the request to its context complete, against the same three VMs asked for as three
// separate leases in the same run, from the first request to the last guest's cloud-init done.
// Both on the same two agent nodes in network namespaces (test/e2e/cluster-pool.ts), the Debian
// guest with stock cloud-init, the same shapes (head 1 CPU 384 MiB, workers 1 CPU 320 MiB). The
// cluster carries no user-data of its own, so the difference is what co-allocation, the private
// network and the context exchange cost. Also the cluster's own cloud-init done, to split the
// difference into booting and context. BENCH_REPEAT runs (1), taking turns; medians; writes
// bench/results/cluster-boot.json.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ClusterPool, type ClusterView, type MemberView, membersOf, MINUTE } from '../test/e2e/cluster-pool.ts';

const root = new URL('..', import.meta.url).pathname;
const REPEAT = Number(process.env.BENCH_REPEAT ?? 1);
/** Only guards against a run that never gets there. */
const DEADLINE = 20 * MINUTE;

const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};

/** Cloud-init has finished on the guest (its boot-finished file), asked over ssh; false while it cannot be asked. */
function cloudInitDone(pool: ClusterPool, view: ClusterView, index: number, jump?: MemberView): boolean {
  const ws = view.workspaces?.[index];
  if (!ws || ws.status !== 'running' || !ws.ip) return false;
  try {
    const probe = 'test -e /var/lib/cloud/instance/boot-finished && echo done';
    const out = jump ? pool.onPrivate(jump, ws, probe) : pool.onPublic(ws, probe);
    return out.trim() === 'done';
  } catch {
    return false;
  }
}

async function waitAllGone(pool: ClusterPool): Promise<void> {
  const end = Date.now() + 3 * MINUTE;
  while (pool.leftovers().length > 0) {
    if (Date.now() > end) throw new Error(`still on the nodes: ${pool.leftovers().join('; ')}`);
    await new Promise((r) => setTimeout(r, 500));
  }
}

async function clusterRun(pool: ClusterPool): Promise<{ toContextMs: number; toCloudInitMs: number }> {
  const spec = join(pool.dir, 'bench-cluster.yaml');
  writeFileSync(spec, [
    'kind: best-effort', 'duration: 7200', 'roles:',
    '  - {name: head, count: 1, cpu: 1, memoryMiB: 384, image: debian, networks: [public, private], provides: [], requires: []}',
    '  - {name: worker, count: 2, cpu: 1, memoryMiB: 320, image: debian, networks: [private], provides: [], requires: [head.ip, head.host-key]}',
    `sshPublicKeys: [${JSON.stringify(pool.ownerKey)}]`, '',
  ].join('\n'));
  const t0 = performance.now();
  const id = ((pool.cli('lease', 'create', '-f', spec) as { lease: ClusterView }).lease).id;
  let toContextMs = -1;
  let toCloudInitMs = -1;
  const booted = new Set<number>();
  const end = Date.now() + DEADLINE;
  // Both asked for on the way: cloud-init finishing on every member, and the context completing
  // (the context agent starts from cloud-init's runcmd, without waiting for the rest of it).
  while (toContextMs < 0 || toCloudInitMs < 0) {
    if (Date.now() > end) throw new Error(`the cluster did not get there\n${pool.logs()}`);
    const view = await pool.lease(id);
    if (view.context?.status === 'failed') throw new Error(`context failed: ${view.context.reason}`);
    if (toContextMs < 0 && view.context?.status === 'complete') toContextMs = Math.round(performance.now() - t0);
    const [head] = membersOf(view, 'head');
    for (const [i, ws] of (view.workspaces ?? []).entries()) {
      if (!booted.has(i) && cloudInitDone(pool, view, i, ws.role === 'head' ? undefined : head)) booted.add(i);
    }
    if (toCloudInitMs < 0 && booted.size === 3) toCloudInitMs = Math.round(performance.now() - t0);
    await new Promise((r) => setTimeout(r, 1000));
  }
  pool.vws('lease', 'cancel', id);
  await pool.leaseUntil(id, 'was cancelled', (l) => l.status === 'cancelled', 2 * MINUTE);
  await waitAllGone(pool);
  return { toContextMs, toCloudInitMs };
}

async function separateRun(pool: ClusterPool): Promise<{ toCloudInitMs: number }> {
  const keyFile = join(pool.dir, 'owner.pub');
  const t0 = performance.now();
  const ids = [384, 320, 320].map((memory) => ((pool.cli('lease', 'create', '--kind', 'best-effort', '--nodes', '1', '--cpu', '1', '--memory', String(memory),
    '--duration', '2h', '--image', 'debian', '--ssh-key', keyFile) as { lease: ClusterView }).lease).id);
  const finished = new Set<string>();
  const end = Date.now() + DEADLINE;
  while (finished.size < ids.length) {
    if (Date.now() > end) throw new Error(`separate leases not all done: ${ids.filter((i) => !finished.has(i)).join(', ')}\n${pool.logs()}`);
    for (const id of ids) if (!finished.has(id) && cloudInitDone(pool, await pool.lease(id), 0)) finished.add(id);
    await new Promise((r) => setTimeout(r, 1000));
  }
  const toCloudInitMs = Math.round(performance.now() - t0);
  for (const id of ids) pool.vws('lease', 'cancel', id);
  for (const id of ids) await pool.leaseUntil(id, 'was cancelled', (l) => l.status === 'cancelled', 2 * MINUTE);
  await waitAllGone(pool);
  return { toCloudInitMs };
}

const pool = await ClusterPool.start('cb', 2, 1536);
try {
  const cluster: Array<{ toContextMs: number; toCloudInitMs: number }> = [];
  const separate: Array<{ toCloudInitMs: number }> = [];
  for (let i = 0; i < REPEAT; i++) {
    // Taking turns, the first turn's order alternating, so that neither always runs on a warmer page cache.
    const order = i % 2 === 0 ? ['separate', 'cluster'] : ['cluster', 'separate'];
    for (const which of order) {
      if (which === 'cluster') cluster.push(await clusterRun(pool));
      else separate.push(await separateRun(pool));
      process.stderr.write(`run ${i + 1} ${which}: ${JSON.stringify(which === 'cluster' ? cluster.at(-1) : separate.at(-1))}\n`);
    }
  }
  const clusterMs = median(cluster.map((r) => r.toContextMs));
  const separateMs = median(separate.map((r) => r.toCloudInitMs));
  const result = {
    accelerator: process.env.VWS_ACCEL ?? 'tcg',
    repeat: REPEAT,
    shapes: { head: { cpu: 1, memoryMiB: 384 }, worker: { cpu: 1, memoryMiB: 320, count: 2 } },
    nodes: { count: 2, cpu: 2, memoryMiB: 1536 },
    clusterRequestToContextCompleteMs: clusterMs,
    clusterRequestToLastCloudInitDoneMs: median(cluster.map((r) => r.toCloudInitMs)),
    clusterRuns: cluster,
    separateRequestToLastCloudInitDoneMs: separateMs,
    separateRuns: separate,
    clusterOverSeparate: Math.round((clusterMs / separateMs) * 100) / 100,
  };
  mkdirSync(join(root, 'bench/results'), { recursive: true });
  writeFileSync(join(root, 'bench/results/cluster-boot.json'), `${JSON.stringify(result, null, 2)}\n`);
  process.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
} finally {
  await pool.close();
}
