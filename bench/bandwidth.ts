// npm run bench:bandwidth — what counting bandwidth costs the scheduler, against the same workload
// without it, in the same run. A trace's leases given 100 Mbit/s each: on the study's one-CPU
// nodes bandwidth never binds at once (one lease a node), so the schedule must be the plain one,
// segment for segment, and the ratio is the cost of asking. On nodes that lease none (every site
// until it declares some), and on nodes of 1,000 Mbit/s, bandwidth cannot bind (bandwidth.ts
// HeldBandwidth: what a node's calendar holds in all is under what it has), and the fast paths
// hold; on nodes of 150 Mbit/s, any two reservations of a node hold more than it has, and the
// general paths are taken there (sweeps instead of memos). Writes results/bandwidth.json (another
// case, --case NAME of sim-cases.ts: results/bandwidth-NAME.json).
import { mkdirSync, writeFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { parseArgs } from 'node:util';
import type { LeaseRequest, NodeSpec } from '../src/core/types.ts';
import { loadRequests } from '../src/sim/experiment.ts';
import { scheduleLines } from '../src/sim/schedule-export.ts';
import { simulate } from '../src/sim/simulator.ts';
import { CASES } from './sim-cases.ts';

const { values } = parseArgs({ options: { case: { type: 'string', default: 'blue-30days-work30' }, repeats: { type: 'string', default: '3' } } });
const spec = CASES[values.case!];
if (!spec) throw new Error(`unknown case '${values.case}'; cases: ${Object.keys(CASES).join(', ')}`);
const repeats = Number(values.repeats);
const plain = loadRequests(spec);
const withBw: LeaseRequest[] = plain.map((r) => ({ ...r, perNode: { ...r.perNode, bandwidthMbps: 100 } }));
const pool = (bandwidthMbps?: number): NodeSpec[] => Array.from({ length: spec.pool.nodes }, (_, i) => ({
  id: `n${i + 1}`, cpu: spec.pool.cpu, memoryMiB: spec.pool.memoryMiB, diskMiB: 0, ...(bandwidthMbps !== undefined ? { bandwidthMbps } : {}),
}));

const variants = {
  'no bandwidth': { requests: plain, nodes: pool() },
  'leases 100 Mbit/s, nodes lease none': { requests: withBw, nodes: pool() },
  'leases 100 Mbit/s, nodes lease 1000': { requests: withBw, nodes: pool(1000) },
  // Two of a node's reservations, at any times, hold more than it has: the general paths there.
  'leases 100 Mbit/s, nodes lease 150': { requests: withBw, nodes: pool(150) },
};
const seconds: Record<string, number[]> = {};
const segments: Record<string, string> = {};
// Interleaved, so that each sees the same load.
for (let k = 0; k < repeats; k++) {
  for (const [name, v] of Object.entries(variants)) {
    const start = process.hrtime.bigint();
    const scheduler = simulate({ requests: v.requests, nodes: v.nodes, config: spec.config });
    (seconds[name] ??= []).push(Number(process.hrtime.bigint() - start) / 1e9);
    if (k === 0) segments[name] = [...scheduleLines(scheduler.allLeases(), v.nodes)].slice(1).map((l) => JSON.stringify((JSON.parse(l) as { segments: unknown }).segments)).join('\n');
  }
}
const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const base = median(seconds['no bandwidth']);
const rows = Object.keys(variants).map((name) => ({
  variant: name, medianSeconds: median(seconds[name]), overNoBandwidth: median(seconds[name]) / base, sameSchedule: segments[name] === segments['no bandwidth'], runs: seconds[name],
}));
console.log(`${values.case}: ${plain.length} leases on ${spec.pool.nodes} nodes, ${repeats} runs each (median)`);
for (const r of rows) console.log(`${r.variant.padEnd(38)} ${r.medianSeconds.toFixed(3)} s  x${r.overNoBandwidth.toFixed(2)}  ${r.sameSchedule ? 'same schedule' : 'SCHEDULE DIFFERS'}`);
mkdirSync(new URL('results/', import.meta.url), { recursive: true });
const out = values.case === 'blue-30days-work30' ? 'results/bandwidth.json' : `results/bandwidth-${values.case}.json`;
writeFileSync(new URL(out, import.meta.url), `${JSON.stringify({ machine: { cpus: availableParallelism(), node: process.version }, case: values.case, leases: plain.length, nodes: spec.pool.nodes, rows }, null, 2)}\n`);
if (rows.some((r) => !r.sameSchedule)) process.exitCode = 1;
