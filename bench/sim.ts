// npm run bench:sim — the simulator's speed, each figure set against a baseline measured in the
// same run (the machine is shared: only ratios taken together mean much). Writes results/sim.json.
// (a) `vws sim` as a user runs it, start-up included, on 500 SDSC Blue jobs and 39 ARs read from
//     Haizea's XML LWF (fixtures/blue-500-work30.lwf): against `node -e 0`, and against Haizea 1.0's
//     302 s of CPU for the same input on this machine kind (a published figure, from vws issue 13).
// (b) `vws sim` as a user runs it on the whole SDSC Blue log (232,562 leases, 1,152 nodes), with the
//     per-node slot table and the schedule export written: against a minimal node-count FCFS+EASY
//     loop in Python (baselines/easy_loop.py) on the same log. The same case run in process
//     (sim-case.ts, under tsx) says where the time goes and how much memory it takes.
// (c) the 217-run sweep of repro:hpdc08 --all on every core: against its 60 s budget.
import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { BLUE_500_WORK30_LWF, SDSC_BLUE_LOG, SDSC_BLUE_WHOLE_LOG_CLI } from './sim-cases.ts';

const root = new URL('..', import.meta.url).pathname;
const here = `${root}bench/`;
const HAIZEA_CPU_SECONDS = 302;
const REPEATS = 5;

/** Wall seconds of one run of a command, and its output. */
function timed(cmd: string, args: string[]): { seconds: number; out: string } {
  const start = process.hrtime.bigint();
  const out = execFileSync(cmd, args, { cwd: root, encoding: 'utf8', maxBuffer: 64 << 20 });
  return { seconds: Number(process.hrtime.bigint() - start) / 1e9, out };
}
const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const lastJson = (out: string) => JSON.parse(out.trim().split('\n').pop()!);
const node = process.execPath;
const tsx = (args: string[]) => timed(node, ['--import', 'tsx', ...args]);
// bin/vws.js runs dist/: built now, so that (a) and (b) time the code as it is.
execFileSync(node, ['scripts/build.mjs'], { cwd: root });

const rows: string[][] = [['figure', 'value', 'baseline (same run)', 'ratio']];
const row = (...cells: string[]): void => void rows.push(cells);
const s = (x: number): string => `${x < 10 ? x.toFixed(3) : x.toFixed(1)} s`;

// (a) Interleaved, so that both see the same load.
const startup: number[] = [];
const vws: number[] = [];
const simArgs = ['bin/vws.js', 'sim', '--trace', BLUE_500_WORK30_LWF, '--preemption', 'suspend', '--suspend-rate', '50', '--resume-rate', '50', '--json'];
let aMetrics: { leases: number } = { leases: 0 };
for (let i = 0; i < REPEATS; i++) {
  startup.push(timed(node, ['-e', '0']).seconds);
  const run = timed(node, simArgs);
  vws.push(run.seconds);
  aMetrics = lastJson(run.out);
}
const aCase = lastJson(tsx([`${here}sim-case.ts`, 'blue-500-work30-xml']).out);
const a = {
  leases: aMetrics.leases, command: `node ${simArgs.join(' ')}`, wallSeconds: median(vws), nodeStartupSeconds: median(startup),
  overNodeStartup: median(vws) / median(startup), aimSeconds: 0.3,
  haizeaCpuSecondsPublished: HAIZEA_CPU_SECONDS, timesFasterThanHaizea: HAIZEA_CPU_SECONDS / median(vws),
  inProcess: { parseSeconds: aCase.parseSeconds, simulateSeconds: aCase.simulateSeconds }, runs: { vws, startup },
};
row(`(a) vws sim, ${a.leases} leases from XML LWF, whole process`, s(a.wallSeconds), `node -e 0: ${s(a.nodeStartupSeconds)}`, `x${a.overNodeStartup.toFixed(1)} (aim: <= 0.3 s)`);
row('    the same against Haizea 1.0', s(a.wallSeconds), `Haizea: ${HAIZEA_CPU_SECONDS} s CPU (published)`, `${Math.round(a.timesFasterThanHaizea)}x faster (aim: >= 1000x)`);
row('    in process: read + simulate', `${s(aCase.parseSeconds)} + ${s(aCase.simulateSeconds)}`, `whole process: ${s(a.wallSeconds)}`, `${((aCase.parseSeconds + aCase.simulateSeconds) / a.wallSeconds * 100).toFixed(0)}% of it`);

// (b) The Python loop first and last, vws between: the baseline is the mean of the two. The
// in-process run comes after, and its export must be the CLI's, byte for byte (the same case).
const scratch = join(tmpdir(), `vws-bench-sim-${process.pid}`);
mkdirSync(scratch, { recursive: true });
const python = () => {
  const r = timed('python3', [`${here}baselines/easy_loop.py`, SDSC_BLUE_LOG, '1152']);
  return { wallSeconds: r.seconds, ...lastJson(r.out) };
};
const cliArgs = ['bin/vws.js', ...SDSC_BLUE_WHOLE_LOG_CLI, '--schedule', join(scratch, 'cli.jsonl'), '--json'];
const py1 = python();
const cliRun = timed(node, cliArgs);
const py2 = python();
const bRun = tsx([`${here}sim-case.ts`, 'sdsc-blue-whole-log', '--schedule', join(scratch, 'in-process.jsonl')]);
const sameExport = readFileSync(join(scratch, 'cli.jsonl')).equals(readFileSync(join(scratch, 'in-process.jsonl')));
rmSync(scratch, { recursive: true, force: true });
if (!sameExport) throw new Error(`(b): the export of \`node ${cliArgs.join(' ')}\` differs from sim-case.ts sdsc-blue-whole-log's: SDSC_BLUE_WHOLE_LOG_CLI no longer says the case`);
const bCase = lastJson(bRun.out);
const cliMetrics = lastJson(cliRun.out) as { leases: number; wallSeconds: number };
const pyWall = (py1.wallSeconds + py2.wallSeconds) / 2;
const b = {
  leases: bCase.leases, command: `node ${cliArgs.join(' ')}`, wallSeconds: cliRun.seconds, cliSimulateSeconds: cliMetrics.wallSeconds,
  ...bCase, inProcessWallSecondsUnderTsx: bRun.seconds, pythonEasyLoop: { runs: [py1, py2], wallSeconds: pyWall },
  overPython: cliRun.seconds / pyWall, inProcessOverPython: (bCase.parseSeconds + bCase.simulateSeconds + bCase.exportSeconds) / ((py1.parseSeconds + py1.simulateSeconds + py2.parseSeconds + py2.simulateSeconds) / 2),
  aimPeakRssMiB: 400,
};
row(`(b) vws sim, whole SDSC Blue log, ${b.leases} leases, with export, whole process`, s(b.wallSeconds), `Python EASY loop: ${s(pyWall)}`, `x${b.overPython.toFixed(2)} (aim: <= 1)`);
row('    in process (sim-case.ts): read + simulate + export', `${s(bCase.parseSeconds)} + ${s(bCase.simulateSeconds)} + ${s(bCase.exportSeconds)}`, 'Python: read + simulate', `x${b.inProcessOverPython.toFixed(2)}`);
row('    the same case, whole process under tsx', s(b.inProcessWallSecondsUnderTsx), `vws sim: ${s(b.wallSeconds)}`, `x${(b.inProcessWallSecondsUnderTsx / b.wallSeconds).toFixed(2)}`);
row('    peak RSS (in process)', `${bCase.peakRssMiB.toFixed(0)} MiB`, `Python: ${py1.peakRssMiB.toFixed(0)} MiB`, `x${(bCase.peakRssMiB / py1.peakRssMiB).toFixed(1)} (aim: <= 400 MiB)`);

// (c)
// The sweep rewrites results/hpdc08-all.json without the checker's verdicts: the checked file is put back.
const checked = readFileSync(`${here}results/hpdc08-all.json`, 'utf8');
const sweep = tsx([`${here}repro-hpdc08.ts`, '--all', '--no-validate', '--bandwidth', '100']);
const sweepRuns = (JSON.parse(readFileSync(`${here}results/hpdc08-all.json`, 'utf8')) as { runs: unknown[] }).runs.length;
writeFileSync(`${here}results/hpdc08-all.json`, checked);
const c = { runs: sweepRuns, cores: availableParallelism(), wallSeconds: sweep.seconds, aimSeconds: 60, overAim: sweep.seconds / 60 };
row(`(c) sweep, ${c.runs} runs on ${c.cores} cores`, s(c.wallSeconds), 'budget: 60 s', `x${c.overAim.toFixed(2)} (aim: < 1)`);

const widths = rows[0].map((_, k) => Math.max(...rows.map((r) => r[k].length)));
for (const r of rows) console.log(r.map((cell, k) => cell.padEnd(widths[k])).join('  ').trimEnd());
mkdirSync(`${here}results`, { recursive: true });
writeFileSync(`${here}results/sim.json`, `${JSON.stringify({ machine: { cpus: availableParallelism(), node: process.version }, a, b, c }, null, 2)}\n`);
