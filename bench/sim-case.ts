// One benchmark case in a process of its own, so that its peak memory is its own.
// Prints a JSON line: wall time of the simulation, of parsing alone, leases, peak RSS.
import { configWith } from '../src/core/config.ts';
import { loadRequests, runExperiment } from '../src/sim/experiment.ts';
import { CASES } from './sim-cases.ts';

const [name, backfill] = process.argv.slice(2);
const base = CASES[name];
if (!base) throw new Error(`unknown case '${name}'; cases: ${Object.keys(CASES).join(', ')}`);
const spec = backfill ? { ...base, config: configWith({ ...base.config, backfill: backfill as 'none' }) } : base;
const parseStart = process.hrtime.bigint();
const requests = loadRequests(spec);
const parseSeconds = Number(process.hrtime.bigint() - parseStart) / 1e9;
const { metrics } = runExperiment(spec, requests);
console.log(JSON.stringify({
  case: name, backfill: spec.config.backfill, leases: metrics.leases, wallSeconds: metrics.wallSeconds, parseSeconds,
  leasesPerSecond: metrics.leases / metrics.wallSeconds, peakRssMiB: process.resourceUsage().maxRSS / 1024,
  allBestEffort: metrics.allBestEffort,
}));
