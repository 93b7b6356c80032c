// npm run bench:sim — simulated leases per second of wall time for (a) the 30-day trace with
// work_30-dur_3h-size_2medium, (b) the whole SDSC Blue log on 1,152 one-CPU nodes, (c) the
// 216-run sweep of repro:hpdc08 --all. Each case runs in a child process; ratios are against
// baselines measured in the same run: parsing the same trace, and the same run without backfilling.
import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';

const here = new URL('.', import.meta.url).pathname;
const node = (args: string[]): string => execFileSync(process.execPath, ['--import', 'tsx', ...args], { cwd: `${here}..`, encoding: 'utf8', maxBuffer: 64 << 20 });
const runCase = (name: string, backfill?: string) => JSON.parse(node([`${here}sim-case.ts`, name, ...(backfill ? [backfill] : [])]).trim().split('\n').pop()!);

const results: Record<string, unknown> = {};
for (const [label, name, aim] of [['a', 'blue-30days-work30', 0.5], ['b', 'sdsc-blue-whole-log', 10]] as const) {
  const easy = runCase(name);
  const none = runCase(name, 'none');
  results[label] = { ...easy, aimSeconds: aim, simOverParse: easy.wallSeconds / easy.parseSeconds, easyOverNoBackfill: easy.wallSeconds / none.wallSeconds, noBackfill: none };
  console.log(`(${label}) ${name}: ${easy.leases} leases in ${easy.wallSeconds.toFixed(3)} s = ${Math.round(easy.leasesPerSecond)} leases/s (aim < ${aim} s); peak RSS ${easy.peakRssMiB.toFixed(0)} MiB; ` +
    `x${(easy.wallSeconds / easy.parseSeconds).toFixed(1)} the time to parse the trace, x${(easy.wallSeconds / none.wallSeconds).toFixed(2)} a run without backfilling`);
}
const sweepStart = process.hrtime.bigint();
node([`${here}repro-hpdc08.ts`, '--all', '--no-validate', '--bandwidth', '100']);
const sweepSeconds = Number(process.hrtime.bigint() - sweepStart) / 1e9;
const sweep = JSON.parse(readFileSync(`${here}results/hpdc08-all.json`, 'utf8')) as { runs: unknown[]; wallSeconds: number };
results.c = { runs: sweep.runs.length, wallSeconds: sweepSeconds, simulationSeconds: sweep.wallSeconds, aimSeconds: 60, runsPerSecond: sweep.runs.length / sweepSeconds };
console.log(`(c) sweep: ${sweep.runs.length} runs in ${sweepSeconds.toFixed(1)} s (aim < 60 s), ${(sweep.runs.length / sweepSeconds).toFixed(2)} runs/s on both cores`);
mkdirSync(`${here}results`, { recursive: true });
writeFileSync(`${here}results/sim.json`, `${JSON.stringify({ machine: { cpus: (await import('node:os')).availableParallelism(), node: process.version }, ...results }, null, 2)}\n`);
