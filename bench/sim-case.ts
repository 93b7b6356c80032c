// One benchmark case in a process of its own, so that its peak memory is its own.
// usage: sim-case.ts CASE [--schedule FILE]
// Prints a JSON line: seconds to read the workload, to simulate, to write the schedule export, leases, peak RSS.
import { parseArgs } from 'node:util';
import { loadRequests, runExperiment } from '../src/sim/experiment.ts';
import { writeSchedule } from '../src/sim/schedule-export.ts';
import { CASES } from './sim-cases.ts';

const { positionals: [name], values } = parseArgs({ allowPositionals: true, options: { schedule: { type: 'string' } } });
const spec = CASES[name];
if (!spec) throw new Error(`unknown case '${name}'; cases: ${Object.keys(CASES).join(', ')}`);
const seconds = (since: bigint): number => Number(process.hrtime.bigint() - since) / 1e9;
const parseStart = process.hrtime.bigint();
const requests = loadRequests(spec);
const parseSeconds = seconds(parseStart);
const { metrics, scheduler, nodes } = runExperiment(spec, requests);
let exportSeconds = 0;
if (values.schedule) {
  const exportStart = process.hrtime.bigint();
  writeSchedule(values.schedule, scheduler.allLeases(), nodes);
  exportSeconds = seconds(exportStart);
}
console.log(JSON.stringify({
  case: name, leases: metrics.leases, parseSeconds, simulateSeconds: metrics.wallSeconds, exportSeconds,
  peakRssMiB: process.resourceUsage().maxRSS / 1024, allBestEffort: metrics.allBestEffort,
}));
