// npm run bench:cells — what splitting one pool into cells costs in waiting (issue 18 item 4): on the
// 30-day SDSC Blue trace (the study's pool: 144 one-CPU nodes), alone and with the ARs of
// work_20-dur_3h-size_2medium, and on the whole SDSC Blue log (1,152 one-CPU slots), one pool
// against 2, 4 and 8 cells of the same total size, under each front policy (cells.ts).
//
// Two baselines, both run here: the one pool on the whole workload, and the one pool on the same
// leases the cells could take (those no larger than the largest cell). A lease larger than every
// cell is refused (the table gives how many, and their share of the work in node-seconds), and the
// leases left wait less for want of the large ones: set against the whole
// workload, splitting can look free or better; set against the same leases, what is left is what
// the split itself costs (a lease waits in one cell while another has room). Waits are simulated
// time, deterministic: one run each. Wall times are one run each too, on a shared machine: read them
// as the simulator's cost, roughly. Each 30-day cell run's export (one export of the whole pool,
// cells.ts splitNodes keeping node ids distinct) goes through the shared checker with its metrics.
// Writes bench/results/cells.json.
// usage: node --import tsx bench/cells.ts [--no-whole-log]
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { cellHolds, evenCells, FRONT_POLICIES, type FrontPolicy } from '../src/sim/cells.ts';
import { cellsScheduleLines } from '../src/sim/cells-export.ts';
import { type ExperimentResult, type ExperimentSpec, loadRequests, runExperiment } from '../src/sim/experiment.ts';
import { uniformPool } from '../src/sim/pool.ts';
import type { LeaseRequest } from '../src/core/types.ts';
import { CASES } from './sim-cases.ts';
import { injection } from './hpdc08-configs.ts';

const WHOLE_LOG = !process.argv.includes('--no-whole-log');
const CELL_COUNTS = [2, 4, 8];
const base30 = CASES['blue-30days-work30'];
const workloads: Array<{ name: string; spec: ExperimentSpec; check: boolean }> = [
  { name: 'blue-30days', spec: { ...base30, injections: [] }, check: true },
  { name: 'blue-30days+work20-3h-medium', spec: { ...base30, injections: [injection('work_20-dur_3h-size_2medium')] }, check: true },
  ...(WHOLE_LOG ? [{ name: 'sdsc-blue-whole-log', spec: CASES['sdsc-blue-whole-log'], check: false }] : []),
];

const checkerPath = new URL('../../shared/tools/validate-schedule', import.meta.url).pathname;
const scratch = mkdtempSync(join(tmpdir(), 'vws-bench-cells-'));

/** The shared checker's verdict on a cell run's one export, with its metrics. */
function check(run: ExperimentResult): string {
  const file = join(scratch, 's.jsonl');
  writeFileSync(file, `${[...cellsScheduleLines(run.cells!, run.nodes)].join('\n')}\n`);
  writeFileSync(join(scratch, 'm.json'), JSON.stringify(run.metrics));
  const r = spawnSync('python3', [checkerPath, file, '--nodes', String(run.nodes.length), '--metrics', join(scratch, 'm.json')], { encoding: 'utf8' });
  return r.status === 0 ? 'ok' : r.stdout.trim().split('\n').slice(0, 5).join('; ');
}

interface Figures { meanWait: number; meanBoundedSlowdown: number; allBestEffort: number; utilization: number; completed: number; rejected: number; wallSeconds: number }
const figures = (r: ExperimentResult): Figures => {
  const m = r.metrics;
  return { meanWait: m.meanWait, meanBoundedSlowdown: m.meanBoundedSlowdown, allBestEffort: m.allBestEffort, utilization: m.utilization, completed: m.completed, rejected: m.rejected, wallSeconds: m.wallSeconds };
};
const ratios = (x: Figures, base: Figures): { meanWait: number; meanBoundedSlowdown: number; allBestEffort: number } => ({
  meanWait: x.meanWait / base.meanWait, meanBoundedSlowdown: x.meanBoundedSlowdown / base.meanBoundedSlowdown, allBestEffort: x.allBestEffort / base.allBestEffort,
});

const results = workloads.map((w) => {
  const requests = loadRequests(w.spec);
  const onePool = figures(runExperiment(w.spec, requests));
  const nodes = uniformPool(w.spec.pool);
  const perCount = CELL_COUNTS.map((count) => {
    const sizes = evenCells(w.spec.pool.nodes, count);
    const largest = nodes.slice(0, Math.max(...sizes));
    const fitting = requests.filter((r) => cellHolds(largest, r));
    const work = (rs: readonly LeaseRequest[]): number => rs.reduce((a, r) => a + r.nodes * Math.min(r.realDuration ?? r.duration, r.duration), 0);
    const workTooLarge = 1 - work(fitting) / work(requests);
    const sameLeases = figures(runExperiment(w.spec, fitting));
    const fronts = FRONT_POLICIES.map((front: FrontPolicy) => {
      const run = runExperiment({ ...w.spec, cells: { sizes, front } }, requests);
      const f = figures(run);
      const row = {
        front, ...f, tooLarge: run.metrics.cells!.tooLarge, perCell: run.metrics.cells!.perCell,
        vsOnePool: ratios(f, onePool), vsSameLeases: ratios(f, sameLeases), checker: w.check ? check(run) : 'not run',
      };
      console.error(`${w.name}: ${count} cells, ${front}: mean wait ${f.meanWait.toFixed(0)} s (x${row.vsSameLeases.meanWait.toFixed(2)} same leases), checker ${row.checker}`);
      return row;
    });
    return { cells: count, sizes, leasesTooLarge: requests.length - fitting.length, workTooLarge, sameLeases, fronts };
  });
  return { workload: w.name, leases: requests.length, poolNodes: w.spec.pool.nodes, onePool, perCount };
});
rmSync(scratch, { recursive: true, force: true });

const secs = (s: number): string => `${Math.round(s)} s`;
const x = (r: number): string => `x${r.toFixed(2)}`;
for (const r of results) {
  console.log(`\n${r.workload}: ${r.leases} leases, ${r.poolNodes} nodes; one pool: mean wait ${secs(r.onePool.meanWait)}, mean bounded slowdown ${r.onePool.meanBoundedSlowdown.toFixed(2)}, all work done at ${secs(r.onePool.allBestEffort)}, sim wall ${r.onePool.wallSeconds.toFixed(2)} s`);
  const table = [['cells', 'front', 'refused (too large): leases, work', 'mean wait', 'vs one pool', 'vs same leases', 'mean bounded slowdown', 'vs one pool', 'vs same leases', 'all work done', 'vs one pool', 'vs same leases', 'sim wall (x one pool)', 'checker']];
  for (const c of r.perCount) {
    const refused = `${c.leasesTooLarge}, ${(c.workTooLarge * 100).toFixed(1)}%`;
    table.push([String(c.cells), 'one pool, same leases', refused, secs(c.sameLeases.meanWait), x(c.sameLeases.meanWait / r.onePool.meanWait), '', c.sameLeases.meanBoundedSlowdown.toFixed(2),
      x(c.sameLeases.meanBoundedSlowdown / r.onePool.meanBoundedSlowdown), '', secs(c.sameLeases.allBestEffort), x(c.sameLeases.allBestEffort / r.onePool.allBestEffort), '', `${c.sameLeases.wallSeconds.toFixed(2)} s (${x(c.sameLeases.wallSeconds / r.onePool.wallSeconds)})`, '']);
    for (const f of c.fronts) {
      table.push([String(c.cells), f.front, refused, secs(f.meanWait), x(f.vsOnePool.meanWait), x(f.vsSameLeases.meanWait), f.meanBoundedSlowdown.toFixed(2),
        x(f.vsOnePool.meanBoundedSlowdown), x(f.vsSameLeases.meanBoundedSlowdown), secs(f.allBestEffort), x(f.vsOnePool.allBestEffort), x(f.vsSameLeases.allBestEffort), `${f.wallSeconds.toFixed(2)} s (${x(f.wallSeconds / r.onePool.wallSeconds)})`, f.checker]);
    }
  }
  const widths = table[0].map((_, i) => Math.max(...table.map((row) => row[i].length)));
  for (const row of table) console.log(row.map((cell, i) => cell.padEnd(widths[i])).join('  '));
}
mkdirSync(new URL('./results/', import.meta.url), { recursive: true });
writeFileSync(new URL('./results/cells.json', import.meta.url), `${JSON.stringify({ cellCounts: CELL_COUNTS, fronts: FRONT_POLICIES, results }, null, 2)}\n`);
if (results.some((r) => r.perCount.some((c) => c.fronts.some((f) => f.checker !== 'ok' && f.checker !== 'not run')))) process.exitCode = 1;
