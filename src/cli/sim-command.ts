import { configWith, DEFAULT_CONFIG, type SchedulerConfig } from '../core/config.ts';
import { type PolicyOptions, PRESET_NAMES, PRESETS, presetOptions } from '../core/presets.ts';
import { configOfTerms } from '../core/terms.ts';
import { readTermsFile } from './terms-file.ts';
import { PREEMPTION_POLICIES } from '../core/preemption-policy.ts';
import { runExperiment, type ExperimentSpec } from '../sim/experiment.ts';
import { fitsInstanceTypes } from '../sim/ec2-model.ts';
import { IMAGE_CHOICES } from '../sim/image-assignment.ts';
import { POOL_BACKEND } from '../sim/simulator.ts';
import { STUDY_POOL } from '../sim/pool.ts';
import { exportSchedule } from '../sim/schedule-export.ts';
import { metricsTable, progressBar } from './format.ts';
import { choiceOption, nonNegative, numberOption, positive, positiveInteger } from './options.ts';
import { parseQuoteRequest, parseTime } from './quote-request.ts';
import { quoteText } from './quote-format.ts';
import { burstTable, parseBurst, type SimBurstOptions } from './sim-burst.ts';
import { cellsTable, parseCells, type SimCellsOptions } from './sim-cells.ts';
import type { SimReplayOptions } from './sim-replay.ts';
import { writeCellsSchedule } from '../sim/cells-export.ts';
import { UsageError } from './usage-error.ts';
import { plotDirOf, type SimPlotOptions } from './sim-plot.ts';
import { writeSimPlots } from '../sim/plots/sim-charts.ts';

/** The options of vws sim by long name, as ./program.ts parsed them (they are described in ./local-commands.ts). */
export interface SimOptions extends SimBurstOptions, SimCellsOptions, SimPlotOptions, SimReplayOptions {
  trace?: string; inject?: string[]; at?: string; quote?: string; nodes?: string; 'node-cpu'?: string; 'node-memory'?: string;
  backfill?: string; preemption?: string; policy?: string; 'suspend-rate'?: string; 'resume-rate'?: string; 'migrate-bandwidth'?: string;
  'no-migration'?: boolean; 'threshold-factor'?: string; 'suspended-order'?: string; images?: string; 'image-choice'?: string;
  'image-count'?: string; 'image-size'?: string; 'image-bandwidth'?: string; 'image-cache'?: string; seed?: string;
  'runtime-overhead'?: string; 'boot-overhead'?: string; 'shutdown-overhead'?: string; json?: boolean; schedule?: string; terms?: string;
  preset?: string;
}

/** The options a terms document sets instead (its scheduling and preemption sections). */
const SET_BY_TERMS = ['preset', 'backfill', 'preemption', 'policy', 'suspend-rate', 'resume-rate', 'migrate-bandwidth', 'no-migration', 'threshold-factor', 'suspended-order', 'images', 'image-bandwidth', 'image-cache', 'runtime-overhead', 'boot-overhead', 'shutdown-overhead'] as const;

export interface SimArgs {
  spec: ExperimentSpec;
  json: boolean;
  schedule: string | null;
  /** Quote this request (JSON) at `at` instead of draining the workload. */
  quote: { at: number; request: string } | null;
}

export function parseSimArgs(v: SimOptions): SimArgs {
  if (!v.trace) throw new UsageError('--trace FILE is required: the workload to simulate (or --replay STORE: a site\'s own log)');
  const terms = v.terms === undefined ? undefined : readTermsFile(v.terms);
  const given = SET_BY_TERMS.find((o) => v[o] !== undefined && v[o] !== false);
  if (terms && given) throw new UsageError(`--${given} and --terms: the terms document sets the scheduling (its scheduling and preemption sections); change it there, or leave --terms out`);
  // A preset gives the options it names their defaults: an option on the line still wins.
  const preset = { ...DEFAULT_CONFIG, ...presetOf(v.preset) };
  const config: SchedulerConfig = terms ? configOfTerms(terms) : configWith({
    backfill: choiceOption('backfill', v.backfill, ['easy', 'conservative', 'none'] as const, preset.backfill),
    preemption: choiceOption('preemption', v.preemption, ['suspend', 'requeue'] as const, 'suspend'),
    preemptionPolicy: choiceOption('policy', v.policy, Object.keys(PREEMPTION_POLICIES), preset.preemptionPolicy),
    suspendRateMBps: numberOption('suspend-rate', v['suspend-rate'], 50, positive, 'a positive rate in MB/s or inf'),
    resumeRateMBps: numberOption('resume-rate', v['resume-rate'], 50, positive, 'a positive rate in MB/s or inf'),
    migrateBandwidthMBps: numberOption('migrate-bandwidth', v['migrate-bandwidth'], 100, positive, 'a positive rate in MB/s or inf'),
    migration: !v['no-migration'],
    suspendThresholdFactor: numberOption('threshold-factor', v['threshold-factor'], preset.suspendThresholdFactor, nonNegative, 'a number >= 0'),
    suspendedQueueOrder: choiceOption('suspended-order', v['suspended-order'], ['arrival', 'suspension'] as const, preset.suspendedQueueOrder),
    images: choiceOption('images', v.images, ['predeployed', 'transfer'] as const, 'predeployed'),
    imageBandwidthMBps: numberOption('image-bandwidth', v['image-bandwidth'], 100, positive, 'a positive rate in MB/s or inf'),
    imageCacheMiB: numberOption('image-cache', v['image-cache'], 20_000, nonNegative, 'a size in MiB >= 0'),
    runtimeOverheadPercent: numberOption('runtime-overhead', v['runtime-overhead'], 0, nonNegative, 'a percentage >= 0'),
    bootSeconds: numberOption('boot-overhead', v['boot-overhead'], 0, (n) => Number.isInteger(n) && n >= 0, 'whole seconds >= 0'),
    shutdownSeconds: numberOption('shutdown-overhead', v['shutdown-overhead'], 0, (n) => Number.isInteger(n) && n >= 0, 'whole seconds >= 0'),
  });
  const imageChoice = choiceOption('image-choice', v['image-choice'], IMAGE_CHOICES, config.images === 'transfer' ? 'single' : 'none');
  const spec: ExperimentSpec = {
    traces: [v.trace],
    injections: v.inject ?? [],
    pool: {
      nodes: numberOption('nodes', v.nodes, STUDY_POOL.nodes, positiveInteger, 'a positive integer'),
      cpu: numberOption('node-cpu', v['node-cpu'], STUDY_POOL.cpu, positive, 'a positive number'),
      memoryMiB: numberOption('node-memory', v['node-memory'], STUDY_POOL.memoryMiB, positive, 'a positive number of MiB'),
      diskMiB: STUDY_POOL.diskMiB,
    },
    config,
    images: {
      choice: imageChoice,
      count: numberOption('image-count', v['image-count'], 37, positiveInteger, 'a positive integer'),
      sizeMiB: numberOption('image-size', v['image-size'], 4096, positive, 'a positive size in MiB'),
      seed: numberOption('seed', v.seed, 1, Number.isInteger, 'an integer'),
    },
  };
  const burst = parseBurst(v);
  if (burst) spec.burst = burst;
  if (terms) spec.terms = terms;
  const cells = parseCells(v, spec.pool.nodes, v.nodes !== undefined);
  if (cells) {
    if (burst) throw new UsageError('--burst-to and --cells do not go together yet: simulate bursting from one pool, or cells without bursting');
    if (v.at !== undefined || v.quote !== undefined) throw new UsageError('--at/--quote and --cells do not go together yet: quote on one pool');
    spec.pool.nodes = cells.sizes.reduce((a, b) => a + b, 0);
    spec.cells = cells;
  }
  if ((v.at === undefined) !== (v.quote === undefined)) throw new UsageError('--at and --quote go together: the time to stop at and the request to quote then');
  const quote = v.quote === undefined ? null : { at: parseTime('--at', v.at), request: v.quote };
  return { spec, json: v.json ?? false, schedule: v.schedule ?? null, quote };
}

function presetOf(name: string | undefined): Partial<PolicyOptions> {
  if (name === undefined) return {};
  if (!Object.hasOwn(PRESETS, name)) throw new UsageError(`--preset ${name}: there is no such preset; choose one of ${PRESET_NAMES.join(', ')} (docs/beyond-hpdc08.md)`);
  return presetOptions(name);
}

export async function simCommand(options: SimOptions): Promise<number> {
  if (options.replay !== undefined) return (await import('./sim-replay.ts')).simReplayCommand(options);
  const { spec, json, schedule, quote } = parseSimArgs(options);
  const plot = plotDirOf(options);
  const bar = progressBar(process.stderr, 'simulating');
  const result = runExperiment({ ...spec, onProgress: (f) => bar.update(f), until: quote?.at });
  bar.done();
  if (quote) {
    const request = parseQuoteRequest(quote.request, quote.at, spec.pool);
    const ids = result.nodes.map((n) => n.id);
    const { backends } = result;
    if (backends) {
      // Each back-end's answer, the pool's first: the options the site's policy chooses among.
      const ec2 = spec.burst!.ec2;
      const names = backends.names.filter((name) => name === POOL_BACKEND || fitsInstanceTypes(ec2, request));
      const quotes = Object.fromEntries(names.map((name) => [name, backends.quote({ ...request, backend: name }, quote.at)]));
      process.stdout.write(json ? `${JSON.stringify(quotes)}\n` : `${Object.entries(quotes).map(([name, q]) => `on ${name}:\n${quoteText(q, ids)}`).join('\n\n')}\n`);
      return 0;
    }
    const q = result.scheduler.quote(request, quote.at);
    process.stdout.write(json ? `${JSON.stringify(q)}\n` : `${quoteText(q, ids)}\n`);
    return 0;
  }
  if (schedule && result.cells) writeCellsSchedule(schedule, result.cells, result.nodes);
  else if (schedule) await exportSchedule(schedule, result.leases, result.nodes);
  if (plot) writeSimPlots(plot, result);
  const m = result.metrics;
  const table = [metricsTable(m), ...(m.burst ? [burstTable(m.burst)] : []), ...(m.cells ? [cellsTable(m.cells)] : [])].join('\n');
  process.stdout.write(json ? `${JSON.stringify(result.metrics)}\n` : `${table}\n`);
  return 0;
}
