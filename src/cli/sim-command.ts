import { createWriteStream, mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { once } from 'node:events';
import { parseArgs } from 'node:util';
import { configWith, type SchedulerConfig } from '../core/config.ts';
import { PREEMPTION_POLICIES } from '../core/preemption-policy.ts';
import { runExperiment, type ExperimentSpec } from '../sim/experiment.ts';
import { IMAGE_CHOICES } from '../sim/image-assignment.ts';
import { STUDY_POOL } from '../sim/pool.ts';
import { scheduleLines } from '../sim/schedule-export.ts';
import { metricsTable, progressBar } from './format.ts';
import { choiceOption, nonNegative, numberOption, positive, positiveInteger } from './options.ts';
import { parseQuoteRequest, parseTime } from './quote-request.ts';
import { quoteText } from './quote-format.ts';
import { UsageError } from './usage-error.ts';

export const SIM_USAGE = `usage: vws sim --trace FILE [--inject FILE]... [options]

Runs the lease scheduler over a workload on a simulated clock.

workload
  --trace FILE              SWF (.swf, .swf.gz) or LWF (XML or AR lines) workload
  --inject FILE             advance reservations to add (may be repeated)
pool
  --nodes N                 number of identical nodes (144)
  --node-cpu C              CPUs per node (1)
  --node-memory MiB         memory per node (1024)
scheduling
  --backfill MODE           easy | conservative | none (easy)
  --preemption MODE         suspend | requeue (suspend)
  --policy NAME             which preemptible leases give way first: ${Object.keys(PREEMPTION_POLICIES).join(' | ')} (youngest-first)
  --suspend-rate MBps       memory saved per second when suspending (50; inf = free)
  --resume-rate MBps        memory restored per second when resuming (50; inf = free)
  --migrate-bandwidth MBps  moving a suspended lease's memory and disk to other nodes (100; inf = free)
  --no-migration            a suspended lease resumes only where it was
  --threshold-factor F      run at least F x the suspend/resume overheads (1)
  --suspended-order O       where a suspended lease queues again: arrival | suspension (arrival)
virtual machines
  --images MODE             predeployed | transfer (predeployed)
  --image-choice C          none | single | uniform | skewed: which image each lease uses (none = no VMs)
  --image-count N           distinct images for uniform/skewed (37)
  --image-size MiB          size of every image (4096)
  --image-bandwidth MBps    image repository link (100)
  --image-cache MiB         per-node image cache, 0 = no reuse (20000)
  --seed N                  seed for the image draw (1)
  --runtime-overhead PCT    best-effort leases run PCT% longer in a VM (0)
  --boot-overhead S         seconds to boot a lease's VMs (0)
  --shutdown-overhead S     seconds to shut them down (0)
output
  --json                    print the metrics object as JSON
  --schedule FILE           write the vws.schedule/v1 export (JSON Lines)
negotiation
  --at TIME                 stop the simulation at TIME (seconds or [DD:]HH:MM:SS) ...
  --quote JSON              ... and print what the scheduler would answer to this request then,
                            e.g. '{"kind":"exact","start":"10:01:00:00","duration":"04:00:00","nodes":64}'
                            (fields: kind, start, duration, nodes, cpu, memoryMiB, deadline,
                            preemptible, period, count, until, acceptPartial, id)
`;

export interface SimArgs {
  spec: ExperimentSpec;
  json: boolean;
  schedule: string | null;
  /** Quote this request (JSON) at `at` instead of draining the workload. */
  quote: { at: number; request: string } | null;
}

export function parseSimArgs(argv: string[]): SimArgs {
  let parsed;
  try {
    parsed = parseArgs({
      args: argv,
      strict: true,
      allowPositionals: false,
      options: {
        trace: { type: 'string' }, inject: { type: 'string', multiple: true }, at: { type: 'string' }, quote: { type: 'string' },
        nodes: { type: 'string' }, 'node-cpu': { type: 'string' }, 'node-memory': { type: 'string' },
        backfill: { type: 'string' }, preemption: { type: 'string' }, policy: { type: 'string' },
        'suspend-rate': { type: 'string' }, 'resume-rate': { type: 'string' }, 'migrate-bandwidth': { type: 'string' },
        'no-migration': { type: 'boolean' }, 'threshold-factor': { type: 'string' }, 'suspended-order': { type: 'string' },
        images: { type: 'string' }, 'image-choice': { type: 'string' }, 'image-count': { type: 'string' },
        'image-size': { type: 'string' }, 'image-bandwidth': { type: 'string' }, 'image-cache': { type: 'string' },
        seed: { type: 'string' }, 'runtime-overhead': { type: 'string' }, 'boot-overhead': { type: 'string' },
        'shutdown-overhead': { type: 'string' }, json: { type: 'boolean' }, schedule: { type: 'string' },
      },
    });
  } catch (e) {
    throw new UsageError((e as Error).message);
  }
  const v = parsed.values;
  if (!v.trace) throw new UsageError('--trace FILE is required: the workload to simulate');
  const images = choiceOption('images', v.images, ['predeployed', 'transfer'] as const, 'predeployed');
  const imageChoice = choiceOption('image-choice', v['image-choice'], IMAGE_CHOICES, images === 'transfer' ? 'single' : 'none');
  const config: SchedulerConfig = configWith({
    backfill: choiceOption('backfill', v.backfill, ['easy', 'conservative', 'none'] as const, 'easy'),
    preemption: choiceOption('preemption', v.preemption, ['suspend', 'requeue'] as const, 'suspend'),
    preemptionPolicy: choiceOption('policy', v.policy, Object.keys(PREEMPTION_POLICIES), 'youngest-first'),
    suspendRateMBps: numberOption('suspend-rate', v['suspend-rate'], 50, positive, 'a positive rate in MB/s or inf'),
    resumeRateMBps: numberOption('resume-rate', v['resume-rate'], 50, positive, 'a positive rate in MB/s or inf'),
    migrateBandwidthMBps: numberOption('migrate-bandwidth', v['migrate-bandwidth'], 100, positive, 'a positive rate in MB/s or inf'),
    migration: !v['no-migration'],
    suspendThresholdFactor: numberOption('threshold-factor', v['threshold-factor'], 1, nonNegative, 'a number >= 0'),
    suspendedQueueOrder: choiceOption('suspended-order', v['suspended-order'], ['arrival', 'suspension'] as const, 'arrival'),
    images,
    imageBandwidthMBps: numberOption('image-bandwidth', v['image-bandwidth'], 100, positive, 'a positive rate in MB/s or inf'),
    imageCacheMiB: numberOption('image-cache', v['image-cache'], 20_000, nonNegative, 'a size in MiB >= 0'),
    runtimeOverheadPercent: numberOption('runtime-overhead', v['runtime-overhead'], 0, nonNegative, 'a percentage >= 0'),
    bootSeconds: numberOption('boot-overhead', v['boot-overhead'], 0, (n) => Number.isInteger(n) && n >= 0, 'whole seconds >= 0'),
    shutdownSeconds: numberOption('shutdown-overhead', v['shutdown-overhead'], 0, (n) => Number.isInteger(n) && n >= 0, 'whole seconds >= 0'),
  });
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
  if ((v.at === undefined) !== (v.quote === undefined)) throw new UsageError('--at and --quote go together: the time to stop at and the request to quote then');
  const quote = v.quote === undefined ? null : { at: parseTime('--at', v.at), request: v.quote };
  return { spec, json: v.json ?? false, schedule: v.schedule ?? null, quote };
}

export async function simCommand(argv: string[]): Promise<number> {
  const { spec, json, schedule, quote } = parseSimArgs(argv);
  const bar = progressBar(process.stderr, 'simulating');
  const result = runExperiment({ ...spec, onProgress: (f) => bar.update(f), until: quote?.at });
  bar.done();
  if (quote) {
    const request = parseQuoteRequest(quote.request, quote.at, spec.pool);
    const q = result.scheduler.quote(request, quote.at);
    process.stdout.write(json ? `${JSON.stringify(q)}\n` : `${quoteText(q, result.nodes.map((n) => n.id))}\n`);
    return 0;
  }
  if (schedule) await writeLines(schedule, scheduleLines(result.scheduler.allLeases(), result.nodes));
  process.stdout.write(json ? `${JSON.stringify(result.metrics)}\n` : `${metricsTable(result.metrics)}\n`);
  return 0;
}

async function writeLines(path: string, lines: Iterable<string>): Promise<void> {
  mkdirSync(dirname(path), { recursive: true });
  const out = createWriteStream(path);
  for (const line of lines) if (!out.write(`${line}\n`)) await once(out, 'drain');
  out.end();
  await once(out, 'finish');
}
