// npm run bench:burst — what bursting to EC2 costs and saves on the 30-day SDSC Blue trace (the
// study's pool: 144 nodes of 1 CPU and 1024 MB), and what it costs the simulator: the pool alone
// against bursting after 0 s, 1 h and 6 h, each run's wall time set against the pool-alone run's
// measured in the same run (medians of REPEATS, interleaved, after an untimed round; then again
// with each case in a process of its own). Each burst run's export goes through the shared
// checker. Writes bench/results/burst.json.
//
// The EC2 configuration is bench/fixtures/ec2-us-east-1.json, read as the service reads it: three
// instance types at AWS's on-demand Linux prices for us-east-1 (aws.amazon.com/ec2/pricing/on-demand:
// t3.micro $0.0104/h, t3.small $0.0208/h, m5.large $0.096/h), 1024 slots, and 100 site units per
// dollar (a figure of this benchmark's, not a price). A 1-CPU, 1024 MB VM gets a t3.micro.
// usage: node --import tsx bench/burst.ts [REPEATS=5]
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { configWith } from '../src/core/config.ts';
import { siteConfigFromText } from '../src/drivers/ec2/site-config.ts';
import { DEFAULT_BURST_BOOT_SECONDS, DEFAULT_EC2_SLOTS } from '../src/sim/ec2-model.ts';
import { type ExperimentSpec, loadRequests, runExperiment } from '../src/sim/experiment.ts';
import { STUDY_POOL } from '../src/sim/pool.ts';
import { scheduleLines } from '../src/sim/schedule-export.ts';
import { BLUE_30_DAYS } from './hpdc08-configs.ts';

/** `--alone K`: run case K only, REPEATS + 1 times, and print its wall seconds (the last REPEATS) as JSON. */
const alone = process.argv[2] === '--alone' ? Number(process.argv[3]) : null;
const REPEATS = Number((alone === null ? process.argv[2] : process.argv[4]) ?? 5);
const CONFIG_FILE = new URL('./fixtures/ec2-us-east-1.json', import.meta.url).pathname;
const site = siteConfigFromText(CONFIG_FILE, readFileSync(CONFIG_FILE, 'utf8'));
const ec2 = { instanceTypes: site.instanceTypes, slots: site.slots ?? DEFAULT_EC2_SLOTS, bootSeconds: DEFAULT_BURST_BOOT_SECONDS, unitsPerDollar: site.unitsPerDollar };
const base: ExperimentSpec = { traces: [BLUE_30_DAYS], injections: [], pool: STUDY_POOL, config: configWith({}), images: { choice: 'none', count: 1, sizeMiB: 1, seed: 1 } };
const requests = loadRequests(base);

const cases: Array<{ name: string; spec: ExperimentSpec }> = [
  { name: 'pool alone', spec: base },
  ...[0, 3600, 6 * 3600].map((afterSeconds) => ({ name: `burst after ${afterSeconds} s`, spec: { ...base, burst: { ec2, policy: { afterSeconds } } } })),
];
const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
if (alone !== null) {
  const seconds: number[] = [];
  for (let k = 0; k <= REPEATS; k++) seconds.push(runExperiment(cases[alone].spec, requests).metrics.wallSeconds);
  console.log(JSON.stringify(seconds.slice(1)));
  process.exit(0);
}
const checkerPath = new URL('../../shared/tools/validate-schedule', import.meta.url).pathname;
const scratch = mkdtempSync(join(tmpdir(), 'vws-bench-burst-'));

/** The shared checker's verdict on a run's export and metrics. */
function check(run: ReturnType<typeof runExperiment>): string {
  const file = join(scratch, 's.jsonl');
  writeFileSync(file, `${[...scheduleLines(run.leases, run.nodes)].join('\n')}\n`);
  writeFileSync(join(scratch, 'm.json'), JSON.stringify(run.metrics));
  const r = spawnSync('python3', [checkerPath, file, '--nodes', String(run.nodes.length), '--metrics', join(scratch, 'm.json')], { encoding: 'utf8' });
  return r.status === 0 ? 'ok' : r.stdout.trim().split('\n').slice(0, 5).join('; ');
}

// A first untimed round: the first runs in a process pay for compiling the scheduler's code, which
// would be charged to whichever case came first. Each run is dropped once read, so that no case
// collects another's garbage.
const walls: number[][] = cases.map(() => []);
const metrics: Array<ReturnType<typeof runExperiment>['metrics'] | null> = cases.map(() => null);
const checked: string[] = cases.map(() => 'not run');
for (let k = 0; k <= REPEATS; k++) {
  cases.forEach((c, i) => {
    const run = runExperiment(c.spec, requests);
    if (k === 0) {
      if (run.metrics.burst) checked[i] = check(run);
      return;
    }
    walls[i].push(run.metrics.wallSeconds);
    metrics[i] = run.metrics;
  });
}
rmSync(scratch, { recursive: true, force: true });
const baseWall = median(walls[0]);
// The same, each case in a process of its own: in one process the cases share V8's optimized code,
// and the pool alone then runs code shaped by five rounds of both paths.
const aloneWalls = cases.map((_, i) => {
  const r = spawnSync(process.execPath, ['--import', 'tsx', new URL(import.meta.url).pathname, '--alone', String(i), String(REPEATS)], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`case ${cases[i].name} alone: ${r.stderr}`);
  return JSON.parse(r.stdout.trim().split('\n').pop()!) as number[];
});
const aloneBase = median(aloneWalls[0]);
const rows = cases.map((c, i) => {
  const m = metrics[i]!;
  const e = m.burst?.backends.ec2;
  return {
    case: c.name, leases: m.leases, meanWait: m.meanWait, meanBoundedSlowdown: m.meanBoundedSlowdown, poolUtilization: m.utilization,
    leasesBurst: e?.leases ?? 0, instanceHours: e?.instanceHours ?? 0, dollars: e?.dollars ?? 0, siteUnits: e?.siteUnits ?? 0,
    wallSeconds: median(walls[i]), wallRatio: median(walls[i]) / baseWall, runs: walls[i],
    aloneWallSeconds: median(aloneWalls[i]), aloneWallRatio: median(aloneWalls[i]) / aloneBase, aloneRuns: aloneWalls[i], checker: checked[i],
  };
});

const table = [['case', 'mean wait', 'mean bounded slowdown', 'pool utilization', 'leases burst', 'instance-hours', 'dollars', 'sim wall (x pool alone)', 'each in its own process', 'checker']];
for (const r of rows) {
  table.push([r.case, `${r.meanWait.toFixed(0)} s`, r.meanBoundedSlowdown.toFixed(2), `${(r.poolUtilization * 100).toFixed(1)}%`, String(r.leasesBurst), r.instanceHours.toFixed(0),
    `$${r.dollars.toFixed(2)}`, `${r.wallSeconds.toFixed(3)} s (x${r.wallRatio.toFixed(2)})`, `${r.aloneWallSeconds.toFixed(3)} s (x${r.aloneWallRatio.toFixed(2)})`, r.checker]);
}
const widths = table[0].map((_, c) => Math.max(...table.map((row) => row[c].length)));
for (const row of table) console.log(row.map((cell, c) => cell.padEnd(widths[c])).join('  '));
mkdirSync(new URL('./results/', import.meta.url), { recursive: true });
writeFileSync(new URL('./results/burst.json', import.meta.url), `${JSON.stringify({ trace: '30days.swf', leases: requests.length, pool: STUDY_POOL, ec2: { ...ec2, configFile: 'bench/fixtures/ec2-us-east-1.json' }, repeats: REPEATS, rows }, null, 2)}\n`);
if (rows.some((r) => r.checker !== 'ok' && r.checker !== 'not run')) process.exitCode = 1;
