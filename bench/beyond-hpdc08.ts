// Issue 22: levers of preemption and placement measured one by one and together, under the study's
// VM-PREDEPLOY profile (B = 100 MB/s), on its 30% workload and on all 72 shared AR workloads, each
// against the paper-faithful policy and against the work bound (src/sim/work-bound.ts) of the same
// run; then the preset against the paper on the whole KTH-SP2 log with ARs made by the study's
// rules. Every export goes through the shared checker. Writes bench/results/beyond-hpdc08.json.
//
//   npm run bench:beyond-hpdc08 [-- --part levers|kth] [--no-validate] [--only NAME,...]
import { mkdirSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import type { SchedulerConfig } from '../src/core/config.ts';
import { presetOptions } from '../src/core/presets.ts';
import { arLines, type ArSize, generateArs } from '../src/sim/ar-generator.ts';
import { type ExperimentSpec, loadRequests } from '../src/sim/experiment.ts';
import { injection, studySpec, TRACES } from './hpdc08-configs.ts';
import { type RunJob, type RunResult, runAll } from './run-pool.ts';
import { validateExportAsync } from './validate-export.ts';

const { values: opts } = parseArgs({ options: { part: { type: 'string' }, 'no-validate': { type: 'boolean' }, only: { type: 'string' } } });
const RESULTS = new URL('./results/', import.meta.url).pathname;
const scratch = join(tmpdir(), `vws-beyond-${process.pid}`);
mkdirSync(scratch, { recursive: true });
const validate = !opts['no-validate'];
const TARGET = 'work_30-dur_3h-size_2medium';

/** Each lever alone, some together, and the preset; the first is the paper-faithful policy every other is set against. */
const LEVERS: ReadonlyArray<{ name: string; overrides: Partial<SchedulerConfig> }> = [
  { name: 'paper (HPDC\'08 rules)', overrides: {} },
  { name: 'suspended leases queue at their suspension', overrides: { suspendedQueueOrder: 'suspension' } },
  { name: 'suspension threshold x10', overrides: { suspendThresholdFactor: 10 } },
  { name: 'least-work-lost victims', overrides: { preemptionPolicy: 'least-work-lost' } },
  { name: 'conservative backfilling', overrides: { backfill: 'conservative' } },
  { name: 'suspension order + threshold x3', overrides: { suspendedQueueOrder: 'suspension', suspendThresholdFactor: 3 } },
  { name: 'suspension order + least-work-lost', overrides: { suspendedQueueOrder: 'suspension', preemptionPolicy: 'least-work-lost' } },
  { name: 'suspension order + conservative', overrides: { suspendedQueueOrder: 'suspension', backfill: 'conservative' } },
  { name: 'preset beyond-hpdc08', overrides: presetOptions('beyond-hpdc08') },
];

interface Outcome {
  growth: number;
  bound: number;
  waitKs: number;
  slowdown: number;
  suspensions: number;
  migrations: number;
  rejected: number;
  checker: string;
}

async function check(path: string, nodes: number, overhead: number): Promise<string> {
  const r = await validateExportAsync(path, { nodes, runtimeOverheadPercent: overhead });
  return r.ok ? r.summary : `FAILED: ${r.summary.split('\n').join(' | ')}`;
}

/** Runs the jobs, each with its bound, then checks their exports two at a time; growth against `baseline`. */
async function execute(jobs: RunJob[], baseline: number, nodes: number): Promise<Outcome[]> {
  const results: RunResult[] = await runAll(jobs.map((j) => ({ ...j, bound: true })), undefined, progress());
  const outcomes: Outcome[] = [];
  for (let k = 0; k < results.length; k += 2) {
    const checked = await Promise.all(results.slice(k, k + 2).map((r, i) => {
      const job = jobs[k + i];
      return job.schedulePath ? check(job.schedulePath, nodes, job.spec.config.runtimeOverheadPercent).finally(() => rmSync(job.schedulePath!, { force: true })) : Promise.resolve('not run');
    }));
    results.slice(k, k + 2).forEach((r, i) => outcomes.push({
      growth: (r.metrics.allBestEffort / baseline - 1) * 100,
      bound: (r.bound!.allBestEffort / baseline - 1) * 100,
      waitKs: r.metrics.meanWait / 1000,
      slowdown: r.metrics.meanBoundedSlowdown,
      suspensions: r.metrics.suspensions,
      migrations: r.metrics.migrations,
      rejected: r.metrics.rejected,
      checker: checked[i],
    }));
  }
  return outcomes;
}

function progress(): ((d: number, n: number) => void) | undefined {
  const t0 = Date.now();
  return process.stderr.isTTY ? (d, n) => process.stderr.write(`\r${d}/${n} runs, ${((Date.now() - t0) / 1000).toFixed(0)} s`) : undefined;
}

async function baselineOf(spec: ExperimentSpec): Promise<number> {
  const [r] = await runAll([{ spec }]);
  return r.metrics.allBestEffort;
}

const f2 = (x: number): string => x.toFixed(2);
const signed = (x: number): string => `${x >= 0 ? '+' : ''}${x.toFixed(2)}`;
const round = (x: number): number => Math.round(x * 100) / 100;
const mean = (xs: readonly number[]): number => xs.reduce((a, x) => a + x, 0) / xs.length;

async function levers(): Promise<object> {
  const workloads = readdirSync(`${TRACES}blue/injected-30days`).filter((f) => f.endsWith('.lwf')).map((f) => f.replace(/\.lwf$/, '')).sort();
  const only = opts.only?.split(',');
  const chosen = LEVERS.filter((l, k) => k === 0 || !only || only.some((o) => l.name.includes(o)));
  const baseline = await baselineOf(studySpec('NOVM-NOSR', 100, []));
  const jobs: RunJob[] = [];
  for (const lever of chosen) {
    for (const w of workloads) {
      const base = studySpec('VM-PREDEPLOY', 100, [injection(w)]);
      jobs.push({ spec: { ...base, config: { ...base.config, ...lever.overrides } }, schedulePath: validate ? join(scratch, `${jobs.length}.jsonl`) : undefined });
    }
  }
  const t0 = Date.now();
  const outcomes = await execute(jobs, baseline, 144);
  const wall = (Date.now() - t0) / 1000;
  const per = (k: number): Outcome[] => outcomes.slice(k * workloads.length, (k + 1) * workloads.length);
  const paper = per(0);
  const t = workloads.indexOf(TARGET);
  const lines = [`baseline (NOVM-NOSR, no ARs): ${baseline} s; VM-PREDEPLOY, B = 100 MB/s; ${TARGET}: bound ${signed(paper[t].bound)}%`, ''];
  const head = `${'lever'.padEnd(44)} | ${'growth'.padStart(7)} ${'wait ks'.padStart(8)} ${'slowdn'.padStart(7)} ${'susp'.padStart(5)} ${'migr'.padStart(5)} | 72: ${'mean'.padStart(6)} ${'vs paper: mean'.padStart(14)} ${'worst'.padStart(6)} ${'better'.padStart(6)}`;
  lines.push(head, '-'.repeat(head.length));
  const rows = chosen.map((lever, k) => {
    const o = per(k);
    const diffs = o.map((x, i) => x.growth - paper[i].growth);
    const row = {
      lever: lever.name, overrides: lever.overrides,
      target: { workload: TARGET, growthPercent: round(o[t].growth), boundPercent: round(o[t].bound), meanWaitKs: round(o[t].waitKs), meanBoundedSlowdown: round(o[t].slowdown), suspensions: o[t].suspensions, migrations: o[t].migrations, rejected: o[t].rejected },
      all72: { meanGrowthPercent: round(mean(o.map((x) => x.growth))), meanBoundPercent: round(mean(o.map((x) => x.bound))), meanDifferencePp: round(mean(diffs)), worstDifferencePp: round(Math.max(...diffs)), better: diffs.filter((d) => d < 0).length, worse: diffs.filter((d) => d > 0).length, meanWaitKs: round(mean(o.map((x) => x.waitKs))), meanBoundedSlowdown: round(mean(o.map((x) => x.slowdown))) },
      checker: { ok: o.filter((x) => x.checker.startsWith('FAILED') === false).length, failed: o.filter((x) => x.checker.startsWith('FAILED')).map((x, i) => ({ workload: workloads[i], summary: x.checker })) },
      workloads: o.map((x, i) => ({ workload: workloads[i], growthPercent: round(x.growth), boundPercent: round(x.bound), meanWaitKs: round(x.waitKs), meanBoundedSlowdown: round(x.slowdown), rejected: x.rejected })),
    };
    lines.push(`${lever.name.padEnd(44)} | ${signed(o[t].growth).padStart(6)}% ${f2(o[t].waitKs).padStart(8)} ${o[t].slowdown.toFixed(1).padStart(7)} ${String(o[t].suspensions).padStart(5)} ${String(o[t].migrations).padStart(5)} | ${signed(row.all72.meanGrowthPercent).padStart(9)}% ${signed(row.all72.meanDifferencePp).padStart(11)} pp ${signed(row.all72.worstDifferencePp).padStart(6)} ${`${row.all72.better}/72`.padStart(6)}`);
    return row;
  });
  const failed = rows.reduce((a, r) => a + r.checker.failed.length, 0);
  lines.push('', `mean bound over the 72: ${signed(mean(paper.map((x) => x.bound)))}%; ${jobs.length} runs in ${wall.toFixed(1)} s${validate ? `; checker: ${jobs.length - failed} OK, ${failed} failed` : ''}`);
  console.log(lines.join('\n'));
  return { baseline, rows, wallSeconds: round(wall) };
}

const KTH = `${TRACES}archive/KTH-SP2-1996-2.1-cln.swf.gz`;
const KTH_POOL = { nodes: 100, cpu: 1, memoryMiB: 1024, diskMiB: 40_000 };
const KTH_ARS: ReadonlyArray<[number, number, ArSize]> = [[10, 3, 'medium'], [20, 3, 'medium'], [30, 3, 'medium'], [30, 1, 'small'], [30, 4, 'large']];

async function kth(): Promise<object> {
  const plain = { ...studySpec('NOVM-NOSR', 100, []), traces: [KTH], pool: KTH_POOL };
  const last = Math.max(...loadRequests(plain).map((r) => r.arrival));
  const baseline = await baselineOf(plain);
  const policies = [LEVERS[0], LEVERS[LEVERS.length - 1]];
  const jobs: RunJob[] = [];
  for (const [load, hours, size] of KTH_ARS) {
    const file = join(scratch, `kth-${load}-${hours}-${size}.lwf`);
    writeFileSync(file, arLines(generateArs({ loadPercent: load, meanHours: hours, size, from: 0, to: last, poolNodes: KTH_POOL.nodes, perNode: { cpu: 1, memoryMiB: 1024, diskMiB: 0 }, seed: 2008 })));
    for (const p of policies) {
      const base = { ...studySpec('VM-PREDEPLOY', 100, [file]), traces: [KTH], pool: KTH_POOL };
      jobs.push({ spec: { ...base, config: { ...base.config, ...p.overrides } }, schedulePath: validate ? join(scratch, `kth-${jobs.length}.jsonl`) : undefined });
    }
  }
  const outcomes = await execute(jobs, baseline, KTH_POOL.nodes);
  const lines = [`KTH-SP2, whole log (100 nodes), ARs by the study's rules (seed 2008), VM-PREDEPLOY; baseline (NOVM-NOSR, no ARs) ${baseline} s`];
  const rows = KTH_ARS.map(([load, hours, size], k) => {
    const [paper, preset] = [outcomes[2 * k], outcomes[2 * k + 1]];
    lines.push(`${`${load}% ${hours} h ${size}`.padEnd(18)} bound ${signed(paper.bound)}% | paper ${signed(paper.growth)}% wait ${f2(paper.waitKs)} ks slowdown ${paper.slowdown.toFixed(1)} | preset ${signed(preset.growth)}% wait ${f2(preset.waitKs)} ks slowdown ${preset.slowdown.toFixed(1)} | checker ${paper.checker.startsWith('FAILED') || preset.checker.startsWith('FAILED') ? 'FAILED' : 'OK'}`);
    const row = (o: Outcome) => ({ growthPercent: round(o.growth), meanWaitKs: round(o.waitKs), meanBoundedSlowdown: round(o.slowdown), suspensions: o.suspensions, migrations: o.migrations, rejected: o.rejected, checker: o.checker });
    return { ars: { loadPercent: load, meanHours: hours, size }, boundPercent: round(paper.bound), paper: row(paper), preset: row(preset) };
  });
  console.log(lines.join('\n'));
  return { baseline, rows };
}

const out: Record<string, unknown> = { experiment: 'issue 22: levers of preemption and placement, VM-PREDEPLOY at B = 100 MB/s' };
if (opts.part === undefined || opts.part === 'levers') out.levers = await levers();
if (opts.part === undefined || opts.part === 'kth') out.kth = await kth();
rmSync(scratch, { recursive: true, force: true });
mkdirSync(RESULTS, { recursive: true });
writeFileSync(`${RESULTS}beyond-hpdc08${opts.only || opts.part ? `-${opts.part ?? 'levers'}${opts.only ? '-only' : ''}` : ''}.json`, `${JSON.stringify(out, null, 2)}\n`);
