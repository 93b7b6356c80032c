// Reproduces HPDC 2008 Table 1 (Sotomayor, Keahey, Foster) with vws's scheduler, side by side
// with the published figures, and writes bench/results/hpdc08.json and the chart docs/hpdc08.md shows
// (docs/hpdc08-chart.svg).
// `--all` runs every shared workload under NOVM-NOSR, NOVM-SR and VM-PREDEPLOY instead.
import { mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import type { SchedulerConfig } from '../src/core/config.ts';
import { presetOptions } from '../src/core/presets.ts';
import type { SimMetrics } from '../src/sim/metrics.ts';
import {
  BASELINE_PUBLISHED, dependsOnBandwidth, injection, PUBLISHED, STUDY_CONFIGS, type StudyConfig, studySpec,
  TABLE_LOADS, tableWorkload, TRACES,
} from './hpdc08-configs.ts';
import { type RunJob, runAll } from './run-pool.ts';
import { validateExport } from './validate-export.ts';
import { type GrowthRow, hpdc08Chart } from './hpdc08-chart.ts';

const { values: opts } = parseArgs({ options: { all: { type: 'boolean' }, 'no-validate': { type: 'boolean' }, bandwidth: { type: 'string', multiple: true } } });
const RESULTS = new URL('./results/', import.meta.url).pathname;
const scratch = join(tmpdir(), `vws-hpdc08-${process.pid}`);
mkdirSync(scratch, { recursive: true });
mkdirSync(RESULTS, { recursive: true });
const validate = !opts['no-validate'];
const bandwidths = (opts.bandwidth ?? ['10', '100']).map(Number);

/** Policies the paper did not try, run on the suspend/resume configurations at B = 100 and set against the same published rows. */
const VARIANTS: ReadonlyArray<{ name: string; overrides: Partial<SchedulerConfig> }> = [
  { name: 'least-work-lost victims', overrides: { preemptionPolicy: 'least-work-lost' } },
  { name: 'no migration on resume', overrides: { migration: false } },
  { name: 'suspended leases queue at the back', overrides: { suspendedQueueOrder: 'suspension' } },
  // Issue 22's policy, as `vws sim --preset beyond-hpdc08` selects it (docs/beyond-hpdc08.md).
  { name: 'preset beyond-hpdc08', overrides: presetOptions('beyond-hpdc08') },
];

interface Run {
  variant?: string;
  config: StudyConfig;
  bandwidth: number | null;
  workload: string | null;
  metrics?: SimMetrics;
  validated?: string;
}

function job(run: Run, k: number): RunJob {
  const base = studySpec(run.config, run.bandwidth ?? 100, run.workload ? [injection(run.workload)] : []);
  const overrides = VARIANTS.find((v) => v.name === run.variant)?.overrides ?? {};
  const spec = { ...base, config: { ...base.config, ...overrides } };
  return { spec, schedulePath: validate ? join(scratch, `${k}.jsonl`) : undefined };
}

async function execute(runs: Run[]): Promise<void> {
  const jobs = runs.map(job);
  const started = Date.now();
  const progress = process.stderr.isTTY ? (d: number, n: number) => process.stderr.write(`\r${d}/${n} runs, ${((Date.now() - started) / 1000).toFixed(0)} s`) : undefined;
  const results = await runAll(jobs, undefined, progress);
  if (progress) process.stderr.write('\n');
  results.forEach((r, k) => {
    runs[k].metrics = r.metrics;
    if (validate) {
      const metricsPath = join(scratch, `${k}.metrics.json`);
      writeFileSync(metricsPath, JSON.stringify(r.metrics));
      const v = validateExport(jobs[k].schedulePath!, { nodes: 144, runtimeOverheadPercent: jobs[k].spec.config.runtimeOverheadPercent, metricsPath });
      runs[k].validated = v.ok ? 'OK' : v.summary;
      if (!v.ok) process.stderr.write(`checker: ${runs[k].config} ${runs[k].workload} B=${runs[k].bandwidth}: ${v.summary}\n`);
    }
  });
}

const pct = (x: number): string => `${x >= 0 ? '+' : ''}${x.toFixed(2)}%`;
const growth = (m: SimMetrics, base: number): number => (m.allBestEffort / base - 1) * 100;

async function table1(): Promise<void> {
  const runs: Run[] = [{ config: 'NOVM-NOSR', bandwidth: null, workload: null }];
  for (const config of STUDY_CONFIGS) {
    for (const b of dependsOnBandwidth(config) ? bandwidths : [null]) {
      for (const load of TABLE_LOADS) runs.push({ config, bandwidth: b, workload: tableWorkload(load) });
    }
  }
  for (const v of VARIANTS) {
    for (const config of ['NOVM-SR', 'VM-PREDEPLOY'] as const) {
      for (const load of TABLE_LOADS) runs.push({ variant: v.name, config, bandwidth: 100, workload: tableWorkload(load) });
    }
  }
  const t0 = Date.now();
  await execute(runs);
  const wall = (Date.now() - t0) / 1000;
  const base = runs[0].metrics!.allBestEffort;
  const baseDiff = (base / BASELINE_PUBLISHED - 1) * 100;
  const lines: string[] = [];
  lines.push(`baseline (NOVM-NOSR, no ARs): all best-effort done at ${base} s; published ${BASELINE_PUBLISHED} s; difference ${pct(baseDiff)}`);
  const rows: object[] = [];
  const head = `${'configuration'.padEnd(18)} ${'B'.padStart(4)} ${'load'.padStart(4)} | ${'growth: ours'.padStart(12)} ${'paper'.padStart(8)} ${'diff pp'.padStart(8)} | ${'wait ks: ours'.padStart(13)} ${'paper'.padStart(7)} | ${'slowdown: ours'.padStart(14)} ${'paper'.padStart(8)}`;
  lines.push(head, '-'.repeat(head.length));
  for (const r of runs.slice(1)) {
    if (r.variant && !runs[runs.indexOf(r) - 1].variant) lines.push('', 'variants, not in the paper, against the same published rows:');
    if (r.variant && runs[runs.indexOf(r) - 1].variant !== r.variant) lines.push(`  ${r.variant}:`);
    const load = Number(r.workload!.slice(5, 7));
    const i = TABLE_LOADS.indexOf(load as 10 | 20 | 30);
    const m = r.metrics!;
    const g = growth(m, base);
    const pg = PUBLISHED.growthPercent[r.config][i];
    const pw = PUBLISHED.meanWaitKs[r.config][i];
    const ps = PUBLISHED.meanBoundedSlowdown[r.config][i];
    lines.push(`${r.config.padEnd(18)} ${String(r.bandwidth ?? '-').padStart(4)} ${`${load}%`.padStart(4)} | ${pct(g).padStart(12)} ${pct(pg).padStart(8)} ${(g - pg).toFixed(2).padStart(8)} | ${(m.meanWait / 1000).toFixed(2).padStart(13)} ${pw.toFixed(2).padStart(7)} | ${m.meanBoundedSlowdown.toFixed(2).padStart(14)} ${ps.toFixed(2).padStart(8)}`);
    rows.push({
      ...(r.variant ? { variant: r.variant } : {}), config: r.config, bandwidthMBps: r.bandwidth, workload: r.workload, loadPercent: load,
      growthPercent: round(g), publishedGrowthPercent: pg, growthDifferencePp: round(g - pg),
      meanWait: round(m.meanWait), publishedMeanWait: pw * 1000, meanBoundedSlowdown: round(m.meanBoundedSlowdown), publishedMeanBoundedSlowdown: ps,
      allBestEffort: m.allBestEffort, suspensions: m.suspensions, migrations: m.migrations, preemptions: m.preemptions, rejected: m.rejected,
      checker: r.validated ?? 'not run',
    });
  }
  for (const b of bandwidths) {
    const diffs = runs.slice(1).filter((r) => r.bandwidth === b && !r.variant).map((r) => {
      const i = TABLE_LOADS.indexOf(Number(r.workload!.slice(5, 7)) as 10 | 20 | 30);
      return Math.abs(growth(r.metrics!, base) - PUBLISHED.growthPercent[r.config][i]);
    });
    lines.push(`B = ${b} MB/s: mean |growth difference| ${(diffs.reduce((a, x) => a + x, 0) / diffs.length).toFixed(2)} pp, largest ${Math.max(...diffs).toFixed(2)} pp`);
  }
  lines.push(`${runs.length} runs in ${wall.toFixed(1)} s of wall time`);
  console.log(lines.join('\n'));
  writeFileSync(`${RESULTS}hpdc08.json`, `${JSON.stringify({
    experiment: 'HPDC 2008 Table 1 (Sotomayor, Keahey, Foster), 30-day SDSC Blue trace, 144 nodes',
    baseline: { allBestEffort: base, published: BASELINE_PUBLISHED, differencePercent: round(baseDiff), checker: runs[0].validated ?? 'not run' },
    rows, wallSeconds: round(wall),
  }, null, 2)}\n`);
  writeFileSync(new URL('../docs/hpdc08-chart.svg', import.meta.url), hpdc08Chart(rows as GrowthRow[]));
}

async function everyWorkload(): Promise<void> {
  const workloads = readdirSync(`${TRACES}blue/injected-30days`).filter((f) => f.endsWith('.lwf')).map((f) => f.replace(/\.lwf$/, '')).sort();
  const configs: StudyConfig[] = ['NOVM-NOSR', 'NOVM-SR', 'VM-PREDEPLOY'];
  const b = bandwidths[bandwidths.length - 1];
  const runs: Run[] = [{ config: 'NOVM-NOSR', bandwidth: null, workload: null }];
  for (const w of workloads) for (const c of configs) runs.push({ config: c, bandwidth: dependsOnBandwidth(c) ? b : null, workload: w });
  const t0 = Date.now();
  await execute(runs);
  const wall = (Date.now() - t0) / 1000;
  const base = runs[0].metrics!.allBestEffort;
  const largest = (c: StudyConfig) => runs.slice(1).filter((r) => r.config === c).reduce((best, r) => (growth(r.metrics!, base) > growth(best.metrics!, base) ? r : best));
  const summary = configs.map((c) => ({ config: c, largestGrowthPercent: round(growth(largest(c).metrics!, base)), workload: largest(c).workload }));
  const failed = runs.filter((r) => r.validated && r.validated !== 'OK').length;
  for (const s of summary) console.log(`${s.config.padEnd(14)} largest growth ${pct(s.largestGrowthPercent)} (${s.workload})`);
  console.log(`published: with suspend/resume within +10%, without suspension up to +32.97%`);
  console.log(`${runs.length} runs in ${wall.toFixed(1)} s of wall time${validate ? `; checker: ${runs.length - failed} OK, ${failed} failed` : ''}`);
  writeFileSync(`${RESULTS}hpdc08-all.json`, `${JSON.stringify({
    experiment: 'every shared workload under NOVM-NOSR, NOVM-SR and VM-PREDEPLOY', bandwidthMBps: b, baseline: base, summary,
    runs: runs.map((r) => ({ config: r.config, workload: r.workload, growthPercent: round(growth(r.metrics!, base)), meanWait: round(r.metrics!.meanWait), meanBoundedSlowdown: round(r.metrics!.meanBoundedSlowdown), rejected: r.metrics!.rejected, checker: r.validated ?? 'not run' })),
    wallSeconds: round(wall),
  }, null, 2)}\n`);
}

function round(x: number): number {
  return Math.round(x * 100) / 100;
}

await (opts.all ? everyWorkload() : table1());
