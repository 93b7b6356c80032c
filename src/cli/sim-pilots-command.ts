// vws sim-pilots: a site's batch log and VM leases sharing its cluster through pilots (docs/pilots.md),
// with the batch log alone on the same cluster for the batch jobs' delay.

import { readFileSync } from 'node:fs';
import { configWith } from '../core/config.ts';
import { type PilotPolicy, pilotPolicyProblem } from '../core/pilot-policy.ts';
import { BatchCluster, type BatchJob } from '../sim/batch/batch-cluster.ts';
import { batchMetrics, type BatchMetrics } from '../sim/batch/batch-metrics.ts';
import { readBatchJobs } from '../sim/batch/batch-workload.ts';
import { pilotMetrics, type PilotMetrics, vmMetrics, type VmMetrics } from '../sim/pilot-metrics.ts';
import { simulatePilots } from '../sim/pilot-simulation.ts';
import { readWorkload } from '../sim/readers/index.ts';
import { writeSchedule } from '../sim/schedule-export.ts';
import { type ChangeFigures, type ChangeOutcome, changeFigures } from '../sim/workload-changes.ts';
import { numberOption, positive, positiveInteger } from './options.ts';
import { UsageError } from './usage-error.ts';
import { changesRows } from './format.ts';

export interface SimPilotsOptions {
  batch?: string; vms?: string; pilots?: string; nodes?: string; 'node-memory'?: string; window?: string; json?: boolean; schedule?: string;
}

const POLICY_KEYS = ['maxPilots', 'nodesPerPilot', 'timeLimitSeconds', 'idleTimeoutSeconds', 'graceSeconds'] as const;

/** The pilot policy of a JSON file: every key of PilotPolicy, nothing else. */
export function readPolicyFile(file: string): PilotPolicy {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    throw new UsageError(`--pilots ${file}: cannot read it (${(e as NodeJS.ErrnoException).code ?? (e as Error).message}); give the pilot policy, a JSON object with ${POLICY_KEYS.join(', ')}`);
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (e) {
    const at = /position (\d+)/.exec((e as Error).message);
    const line = at ? text.slice(0, Number(at[1])).split('\n').length : null;
    throw new UsageError(`${file}${line === null ? '' : `:${line}`}: not JSON (${(e as Error).message}); the pilot policy is a JSON object`);
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new UsageError(`${file}: the pilot policy is a JSON object with ${POLICY_KEYS.join(', ')}`);
  const given = value as Record<string, unknown>;
  const unknown = Object.keys(given).filter((k) => !(POLICY_KEYS as readonly string[]).includes(k));
  if (unknown.length > 0) throw new UsageError(`${file}: unknown key${unknown.length > 1 ? 's' : ''} ${unknown.map((k) => `'${k}'`).join(', ')}; a pilot policy has ${POLICY_KEYS.join(', ')}`);
  const missing = POLICY_KEYS.filter((k) => given[k] === undefined);
  if (missing.length > 0) throw new UsageError(`${file}: missing ${missing.join(', ')}; a pilot policy has ${POLICY_KEYS.join(', ')}`);
  const wrong = POLICY_KEYS.find((k) => typeof given[k] !== 'number');
  if (wrong) throw new UsageError(`${file}: ${wrong} must be a number, got ${JSON.stringify(given[wrong])}`);
  const policy = given as unknown as PilotPolicy;
  const problem = pilotPolicyProblem(policy);
  if (problem) throw new UsageError(`${file}: ${problem}`);
  return policy;
}

export interface SimPilotsOutput {
  batch: BatchMetrics;
  batchAlone: BatchMetrics;
  vm: VmMetrics;
  pilots: PilotMetrics;
  windowSeconds: number;
  wallSeconds: number;
  /** What became of the changes the VM leases ask for, if they ask for any. */
  changes?: ChangeFigures;
}

function alone(size: number, jobs: readonly BatchJob[]): BatchMetrics {
  const c = new BatchCluster(size, 0, jobs);
  for (let t = c.nextEventTime(); t !== Infinity; t = c.nextEventTime()) c.advance(t);
  return batchMetrics(c.records());
}

export function simPilotsCommand(v: SimPilotsOptions): number {
  if (!v.batch) throw new UsageError('--batch FILE is required: the batch system\'s log (SWF), one node per requested processor');
  if (!v.vms) throw new UsageError('--vms FILE is required: the VM leases (SWF or LWF), best-effort, run on pilots only');
  if (!v.pilots) throw new UsageError('--pilots FILE is required: the pilot policy (JSON: maxPilots, nodesPerPilot, timeLimitSeconds, idleTimeoutSeconds, graceSeconds)');
  const policy = readPolicyFile(v.pilots);
  const nodes = numberOption('nodes', v.nodes, 144, positiveInteger, 'a positive integer');
  const node = { cpu: 1, memoryMiB: numberOption('node-memory', v['node-memory'], 1024, positive, 'a positive number of MiB'), diskMiB: 0 };
  const batch = readBatchJobs(v.batch, nodes);
  const leases = readWorkload(v.vms, { perNode: node }).leases;
  const windowSeconds = numberOption('window', v.window, Math.max(0, ...batch.map((j) => j.submit)), (n) => Number.isInteger(n) && n > 0, 'whole seconds > 0');
  const t0 = performance.now();
  const outcomes: ChangeOutcome[] = [];
  const run = simulatePilots({ clusterNodes: nodes, node, batch, leases, policy, config: configWith({}), onChange: (o) => outcomes.push(o) });
  const out: SimPilotsOutput = {
    ...(outcomes.length > 0 ? { changes: changeFigures(outcomes) } : {}),
    batch: batchMetrics(run.batch.records()), batchAlone: alone(nodes, batch), vm: vmMetrics(run.scheduler.allLeases(), run.nodes, windowSeconds),
    pilots: pilotMetrics(run), windowSeconds, wallSeconds: (performance.now() - t0) / 1000,
  };
  if (v.schedule) writeSchedule(v.schedule, run.scheduler.allLeases(), run.nodes);
  process.stdout.write(v.json ? `${JSON.stringify(out)}\n` : `${pilotsTable(out)}\n`);
  return 0;
}

function pilotsTable(o: SimPilotsOutput): string {
  const delay = (x: number, base: number): string => `${x.toFixed(0)} s (batch alone ${base.toFixed(0)} s, ${x >= base ? '+' : ''}${base > 0 ? ((100 * (x - base)) / base).toFixed(1) : '0'}%)`;
  const rows: Array<[string, string]> = [
    ['batch jobs', String(o.batch.jobs)],
    ['batch mean wait', delay(o.batch.meanWait, o.batchAlone.meanWait)],
    ['batch mean bounded slowdown', `${o.batch.meanBoundedSlowdown.toFixed(2)} (batch alone ${o.batchAlone.meanBoundedSlowdown.toFixed(2)})`],
    ['batch jobs that waited for pilots', `${o.batch.handovers} (longest ${o.batch.longestHandover} s)`],
    ['VM leases completed', `${o.vm.completed} of ${o.vm.leases} (${o.vm.completedInWindow} by ${o.windowSeconds} s)`],
    ['VM work done', `${o.vm.workNodeHours.toFixed(1)} node-hours (${o.vm.workInWindowNodeHours.toFixed(1)} by ${o.windowSeconds} s)`],
    ['VM mean wait', `${o.vm.meanWait.toFixed(0)} s`],
    ['VM mean bounded slowdown', o.vm.meanBoundedSlowdown.toFixed(2)],
    ['VM suspensions', String(o.vm.suspensions)],
    ...changesRows(o.changes),
    ['pilots', `${o.pilots.started} started, ${o.pilots.preempted} preempted, ${o.pilots.released} let go idle, ${o.pilots.timeLimit} to their time limit`],
    ['pilot node-hours', `${o.pilots.heldNodeHours.toFixed(1)} (${(100 * o.pilots.usedShare).toFixed(0)}% held by VMs)`],
    ['wall time', `${o.wallSeconds.toFixed(2)} s`],
  ];
  const width = Math.max(...rows.map(([k]) => k.length));
  return rows.map(([k, val]) => `${k.padEnd(width)}  ${val}`).join('\n');
}
