// Writes the schedule exports that speed work must leave unchanged, to compare them with `cmp`
// before and after a change: the whole SDSC Blue log, and the 30-day trace with work_30 under
// the three profiles of repro:hpdc08 --all.
// usage: node --import tsx bench/export-schedules.ts DIR [NAME...]
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { runExperiment, type ExperimentSpec } from '../src/sim/experiment.ts';
import { writeSchedule } from '../src/sim/schedule-export.ts';
import { injection, studySpec } from './hpdc08-configs.ts';
import { CASES } from './sim-cases.ts';

const work30 = [injection('work_30-dur_3h-size_2medium')];
const EXPORTS: Record<string, ExperimentSpec> = {
  'whole-log': CASES['sdsc-blue-whole-log'],
  'work30-NOVM-NOSR': studySpec('NOVM-NOSR', 100, work30),
  'work30-NOVM-SR': studySpec('NOVM-SR', 100, work30),
  'work30-VM-PREDEPLOY': studySpec('VM-PREDEPLOY', 100, work30),
};

const [dir, ...names] = process.argv.slice(2);
if (!dir) throw new Error(`usage: export-schedules.ts DIR [${Object.keys(EXPORTS).join(' ')}]`);
mkdirSync(dir, { recursive: true });
for (const name of names.length ? names : Object.keys(EXPORTS)) {
  const spec = EXPORTS[name];
  if (!spec) throw new Error(`unknown export '${name}'; known: ${Object.keys(EXPORTS).join(', ')}`);
  const { scheduler, nodes, metrics } = runExperiment(spec);
  writeSchedule(join(dir, `${name}.jsonl`), scheduler.allLeases(), nodes);
  console.log(`${name}: ${metrics.leases} leases, simulated in ${metrics.wallSeconds.toFixed(2)} s`);
}
