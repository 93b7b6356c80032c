// npm run bench:pilots — batch jobs and VM leases sharing one cluster through pilots, against a
// static split of it in two (issue 19 item 4), on the 144-node SDSC Blue cluster.
//
// Batch: shared/traces/blue/30days.swf (5,108 jobs, 70% of the cluster's node-hours over 30 days).
// VM leases: the jobs of the next 30 days of the whole SDSC Blue log (archive/, submitted in
// [30, 60) days after the first job of 30days.swf, which is archive time 440,070 s), from queues
// 1-4 as 30days.swf was, shifted to start at 0; processors become nodes (8 per node, rounded up),
// as the README says; jobs of more than 8 nodes are left out (VM leases here are small: the
// express queue's limit, and all fit the proportional split's VM part); every second job is kept
// (in submission order) to make the VM load about 12% of the cluster's node-hours. Each is a
// best-effort, preemptible lease of 1-CPU 1024 MB VMs, planned for its requested time and really
// ending after its run time. vws: the study's costs (suspend and resume 50 MB/s, a depot fetch
// at 100 MB/s, 1024 MB VMs), EASY.
//
// Runs: (a) batch alone on 144 nodes; (b) static splits: 72/72, and one proportional to the two
// loads (batch jobs too large for the batch part are refused: counted, and their share of the
// work given; the batch delay is against (a) run on the same jobs); (c) shared through pilots
// under three policies, grace 120 s. Each vws export goes through the shared checker (with its
// metrics); the pilot runs also through tenureViolations (the checker does not know that a node
// is vws's only while a pilot holds it). Writes bench/results/pilot-share.json.
// usage: node --import tsx bench/pilot-share.ts
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { configWith } from '../src/core/config.ts';
import type { LeaseRecord } from '../src/core/lease-record.ts';
import type { PilotPolicy } from '../src/core/pilot-policy.ts';
import type { LeaseRequest, NodeSpec } from '../src/core/types.ts';
import { BatchCluster, type BatchJob } from '../src/sim/batch/batch-cluster.ts';
import { batchMetrics, type BatchMetrics } from '../src/sim/batch/batch-metrics.ts';
import { batchJobsOf } from '../src/sim/batch/batch-workload.ts';
import { computeMetrics } from '../src/sim/metrics.ts';
import { pilotMetrics, type PilotMetrics, tenureViolations, vmMetrics, type VmMetrics } from '../src/sim/pilot-metrics.ts';
import { simulatePilots } from '../src/sim/pilot-simulation.ts';
import { uniformPool } from '../src/sim/pool.ts';
import { parseSwf, readTraceText, readWorkload } from '../src/sim/readers/index.ts';
import { scheduleLines } from '../src/sim/schedule-export.ts';
import { simulate } from '../src/sim/simulator.ts';

const traces = new URL('../../shared/traces/', import.meta.url).pathname;
const checkerPath = new URL('../../shared/tools/validate-schedule', import.meta.url).pathname;
const NODES = 144;
const DAY = 86_400;
const WINDOW = 30 * DAY;
const ARCHIVE_OFFSET = 440_070;
const VM_MAX_NODES = 8;
const VM_STRIDE = 2;
const NODE = { cpu: 1, memoryMiB: 1024, diskMiB: 0 };
const config = configWith({ suspendRateMBps: 50, resumeRateMBps: 50, migrateBandwidthMBps: 100, suspendedState: 'depot' });
const POLICIES: Array<{ name: string; policy: PilotPolicy }> = [
  { name: '1-node pilots, 4 h, idle 10 min', policy: { maxPilots: NODES, nodesPerPilot: 1, timeLimitSeconds: 4 * 3600, idleTimeoutSeconds: 600, graceSeconds: 120 } },
  { name: '1-node pilots, 24 h, idle 10 min', policy: { maxPilots: NODES, nodesPerPilot: 1, timeLimitSeconds: 24 * 3600, idleTimeoutSeconds: 600, graceSeconds: 120 } },
  { name: '4-node pilots, 4 h, idle 30 min', policy: { maxPilots: NODES / 4, nodesPerPilot: 4, timeLimitSeconds: 4 * 3600, idleTimeoutSeconds: 1800, graceSeconds: 120 } },
];

/** The VM leases, as the header says. */
function vmWorkload(): LeaseRequest[] {
  const from = ARCHIVE_OFFSET + WINDOW;
  const text = readTraceText(join(traces, 'archive/SDSC-BLUE-2000-4.2-cln.swf.gz'));
  const kept = text.split('\n').filter((line) => {
    const f = line.trim().split(/\s+/);
    if (line.startsWith(';') || f.length < 18) return false;
    const submit = Number(f[1]);
    const queue = Number(f[14]);
    return submit >= from && submit < from + WINDOW && queue >= 1 && queue <= 4;
  });
  return parseSwf(kept.join('\n'), 'SDSC-BLUE-2000-4.2-cln.swf.gz', { perNode: NODE }).leases
    .map((l) => ({ ...l, id: `vm-${l.id}`, arrival: l.arrival - from, nodes: Math.ceil(l.nodes / 8) }))
    .filter((l) => l.nodes <= VM_MAX_NODES)
    .filter((_, i) => i % VM_STRIDE === 0);
}

const batch = batchJobsOf(readWorkload(join(traces, 'blue/30days.swf')).leases);
const vms = vmWorkload();
const work = (xs: ReadonlyArray<{ nodes: number; seconds: number }>): number => xs.reduce((a, x) => a + x.nodes * x.seconds, 0);
const batchWork = work(batch.map((j) => ({ nodes: j.nodes, seconds: j.runtime })));
const vmWork = work(vms.map((l) => ({ nodes: l.nodes, seconds: l.realDuration! })));
const load = { batch: batchWork / (NODES * WINDOW), vm: vmWork / (NODES * WINDOW) };
const vmShare = Math.round((NODES * load.vm) / (load.batch + load.vm));
console.error(`batch: ${batch.length} jobs, ${(100 * load.batch).toFixed(1)}% of the cluster; VM: ${vms.length} leases, ${(100 * load.vm).toFixed(1)}%; proportional split ${NODES - vmShare}/${vmShare}`);

function batchAlone(size: number, jobs: readonly BatchJob[]): BatchMetrics {
  const c = new BatchCluster(size, 0, jobs);
  for (let t = c.nextEventTime(); t !== Infinity; t = c.nextEventTime()) c.advance(t);
  return batchMetrics(c.records());
}

const scratch = mkdtempSync(join(tmpdir(), 'vws-bench-pilots-'));
/** The shared checker's verdict on the vws side's export, with its metrics. */
function check(leases: readonly LeaseRecord[], nodes: readonly NodeSpec[]): string {
  const file = join(scratch, 's.jsonl');
  writeFileSync(file, `${[...scheduleLines(leases, nodes)].join('\n')}\n`);
  writeFileSync(join(scratch, 'm.json'), JSON.stringify(computeMetrics(leases, nodes, 0)));
  const r = spawnSync('python3', [checkerPath, file, '--nodes', String(nodes.length), '--metrics', join(scratch, 'm.json')], { encoding: 'utf8' });
  return r.status === 0 ? 'ok' : r.stdout.trim().split('\n').slice(0, 5).join('; ');
}

interface Row {
  name: string;
  batchNodes: number | null;
  vmNodes: number | null;
  batch: BatchMetrics;
  batchRefused: { jobs: number; workShare: number };
  /** (a) on the jobs this run's batch part took. */
  batchBaseline: BatchMetrics;
  vm: VmMetrics | null;
  pilots: PilotMetrics | null;
  checker: string;
  wallSeconds: number;
}

const alone = batchAlone(NODES, batch);
const rows: Row[] = [{ name: '(a) batch alone', batchNodes: NODES, vmNodes: null, batch: alone, batchRefused: { jobs: 0, workShare: 0 }, batchBaseline: alone, vm: null, pilots: null, checker: 'no vws export', wallSeconds: 0 }];

for (const vmNodes of [NODES / 2, vmShare]) {
  const t0 = performance.now();
  const batchNodes = NODES - vmNodes;
  const fits = batch.filter((j) => j.nodes <= batchNodes);
  const b = batchAlone(batchNodes, fits);
  const nodes = uniformPool({ nodes: vmNodes, cpu: 1, memoryMiB: 1024, diskMiB: 0 });
  const s = simulate({ requests: vms, nodes, config });
  const refusedWork = batchWork - work(fits.map((j) => ({ nodes: j.nodes, seconds: j.runtime })));
  rows.push({
    name: `(b) static split ${batchNodes}/${vmNodes}`, batchNodes, vmNodes, batch: b, batchRefused: { jobs: batch.length - fits.length, workShare: refusedWork / batchWork },
    batchBaseline: fits.length === batch.length ? alone : batchAlone(NODES, fits), vm: vmMetrics(s.allLeases(), nodes, WINDOW), pilots: null,
    checker: check(s.allLeases(), nodes), wallSeconds: (performance.now() - t0) / 1000,
  });
}

for (const { name, policy } of POLICIES) {
  const t0 = performance.now();
  const run = simulatePilots({ clusterNodes: NODES, node: NODE, batch, leases: vms, policy, config });
  const wallSeconds = (performance.now() - t0) / 1000;
  const outside = tenureViolations(run);
  const verdict = check(run.scheduler.allLeases(), run.nodes);
  rows.push({
    name: `(c) pilots: ${name}`, batchNodes: null, vmNodes: null, batch: batchMetrics(run.batch.records()), batchRefused: { jobs: 0, workShare: 0 }, batchBaseline: alone,
    vm: vmMetrics(run.scheduler.allLeases(), run.nodes, WINDOW), pilots: pilotMetrics(run),
    checker: outside.length === 0 ? verdict : `${verdict}; ${outside.length} VM segments outside pilots: ${outside.slice(0, 3).join('; ')}`, wallSeconds,
  });
}
rmSync(scratch, { recursive: true, force: true });

const h = (s: number): string => (s / 3600).toFixed(0);
const pct = (x: number, base: number): string => `${x >= base ? '+' : ''}${((100 * (x - base)) / base).toFixed(1)}%`;
const table = [['run', 'VM work by day 30 (node-h)', 'VM work all', 'VM leases done by day 30', 'VM mean wait', 'VM mean bsld', 'last VM end (day)', 'batch refused', 'batch mean wait', 'vs (a)', 'batch mean bsld', 'vs (a)', 'pilots started', 'pilot preemptions', 'VM suspensions', 'pilot node-h (VM share)', 'checker', 'wall']];
for (const r of rows) {
  const vm = r.vm;
  table.push([
    r.name, vm ? vm.workInWindowNodeHours.toFixed(0) : '-', vm ? vm.workNodeHours.toFixed(0) : '-', vm ? `${vm.completedInWindow}/${vm.leases}` : '-',
    vm ? `${vm.meanWait.toFixed(0)} s` : '-', vm ? vm.meanBoundedSlowdown.toFixed(1) : '-', vm ? (vm.lastEnd / DAY).toFixed(2) : '-',
    r.batchRefused.jobs ? `${r.batchRefused.jobs} (${(100 * r.batchRefused.workShare).toFixed(1)}% of work)` : '0',
    `${r.batch.meanWait.toFixed(0)} s`, pct(r.batch.meanWait, r.batchBaseline.meanWait), r.batch.meanBoundedSlowdown.toFixed(2), pct(r.batch.meanBoundedSlowdown, r.batchBaseline.meanBoundedSlowdown),
    r.pilots ? String(r.pilots.started) : '-', r.pilots ? String(r.pilots.preempted) : '-', vm ? String(vm.suspensions) : '-',
    r.pilots ? `${r.pilots.heldNodeHours.toFixed(0)} (${(100 * r.pilots.usedShare).toFixed(0)}%)` : '-', r.checker, `${r.wallSeconds.toFixed(1)} s`,
  ]);
}
const widths = table[0].map((_, i) => Math.max(...table.map((row) => row[i].length)));
console.log(`batch ${batch.length} jobs (${h(batchWork)} node-h, ${(100 * load.batch).toFixed(1)}%), VM ${vms.length} leases (${h(vmWork)} node-h, ${(100 * load.vm).toFixed(1)}%) on ${NODES} nodes, 30-day window`);
for (const row of table) console.log(row.map((cell, i) => cell.padEnd(widths[i])).join('  '));
mkdirSync(new URL('./results/', import.meta.url), { recursive: true });
const workload = { batchJobs: batch.length, batchNodeHours: batchWork / 3600, vmLeases: vms.length, vmNodeHours: vmWork / 3600, load, vmMaxNodes: VM_MAX_NODES, vmStride: VM_STRIDE, windowSeconds: WINDOW };
writeFileSync(new URL('./results/pilot-share.json', import.meta.url), `${JSON.stringify({ workload, policies: POLICIES, rows }, null, 2)}\n`);
if (rows.some((r) => r.checker !== 'ok' && r.checker !== 'no vws export')) process.exitCode = 1;
