// What co-allocation costs: the 30-day trace with work_30 (repro:hpdc08's NOVM-NOSR profile) with
// every Kth multi-node best-effort lease made a cluster (a head of half a worker's CPU and
// workers of the lease's shape, so the same envelope), against the same workload with those
// leases plain, measured in the same run, alternating. Checks the cluster schedule with the shared checker and writes
// bench/results/clusters.json.
// usage: node --import tsx bench/clusters.ts [EVERY=10] [PAIRS=3]
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadRequests, runExperiment } from '../src/sim/experiment.ts';
import { scheduleLines } from '../src/sim/schedule-export.ts';
import type { ClusterRole, LeaseRequest } from '../src/core/types.ts';
import { injection, studySpec } from './hpdc08-configs.ts';

const every = Number(process.argv[2] ?? 10);
const pairs = Number(process.argv[3] ?? 3);
const spec = studySpec('NOVM-NOSR', 100, [injection('work_30-dur_3h-size_2medium')]);
const plain = loadRequests(spec);

let made = 0;
const clustered: LeaseRequest[] = plain.map((r) => {
  if (r.kind !== 'best-effort' || r.nodes < 2 || made++ % every !== 0) return r;
  const shape = (name: string, count: number, cpu: number): ClusterRole => ({ name, count, perNode: { ...r.perNode, cpu }, networks: ['private'], provides: [], requires: [] });
  // A head of another shape than any plain lease's: the case where shape-keyed caches do not help.
  return { ...r, roles: [shape('head', 1, r.perNode.cpu / 2), shape('worker', r.nodes - 1, r.perNode.cpu)] };
});
const clusters = clustered.filter((r) => r.roles).length;

const times = { plain: [] as number[], clusters: [] as number[] };
let lines: string[] = [];
for (let k = 0; k < pairs; k++) {
  times.plain.push(runExperiment(spec, plain).metrics.wallSeconds);
  const run = runExperiment(spec, clustered);
  times.clusters.push(run.metrics.wallSeconds);
  if (k === 0) lines = [...scheduleLines(run.scheduler.allLeases(), run.nodes)];
}
const dir = mkdtempSync(join(tmpdir(), 'vws-clusters-'));
writeFileSync(join(dir, 's.jsonl'), `${lines.join('\n')}\n`);
const check = spawnSync('python3', [new URL('../../shared/tools/validate-schedule', import.meta.url).pathname, join(dir, 's.jsonl'), '--nodes', String(spec.pool.nodes)], { encoding: 'utf8' });
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const ratio = median(times.clusters) / median(times.plain);
console.log(`${plain.length} leases, ${clusters} of them clusters (every ${every}th multi-node best-effort lease)`);
console.log(`simulate: plain ${median(times.plain).toFixed(3)} s, with clusters ${median(times.clusters).toFixed(3)} s (median of ${pairs}): x${ratio.toFixed(2)}`);
console.log(`shared checker: ${check.stdout.trim().split('\n').pop()}`);
mkdirSync(new URL('./results/', import.meta.url), { recursive: true });
writeFileSync(new URL('./results/clusters.json', import.meta.url), `${JSON.stringify({ leases: plain.length, clusters, every, pairs, seconds: times, ratio, checker: check.status === 0 ? 'ok' : check.stdout }, null, 2)}\n`);
if (check.status !== 0) process.exitCode = 1;
