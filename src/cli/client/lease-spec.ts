// A lease spec from command-line options, and the options that ask for a given spec: the second
// is how a refusal's alternatives become command lines a person can paste back.

import type { LeaseSpec } from '../../api/schemas.ts';
import { UsageError } from '../usage-error.ts';
import { type Args, integerOption, positiveNumberOption } from './args.ts';
import { durationText, parseDuration, parseTime, timeText } from './parse-time.ts';

export type { LeaseSpec };

export const KINDS = ['best-effort', 'immediate', 'exact', 'urgent', 'deadline', 'periodic'] as const;

export function specFromArgs(args: Args, now = Math.floor(Date.now() / 1000)): LeaseSpec {
  // Best-effort asks the least of the pool: it waits for room rather than being refused.
  const kind = args.string('kind') ?? 'best-effort';
  if (!(KINDS as readonly string[]).includes(kind)) throw new UsageError(`--kind must be one of ${KINDS.join(', ')}; got '${kind}'`);
  const spec: LeaseSpec = {
    kind: kind as LeaseSpec['kind'],
    nodes: integerOption('nodes', args.required('nodes', 'N (how many VMs, one per node)'), 1),
    cpu: positiveNumberOption('cpu', args.required('cpu', 'C (CPUs per VM)')),
    memoryMiB: integerOption('memory', args.required('memory', 'MiB (memory per VM)'), 1),
    duration: parseDuration('duration', args.required('duration', 'D (e.g. 2h30m)')),
  };
  const disk = args.string('disk');
  if (disk !== undefined) spec.diskMiB = integerOption('disk', disk, 0);
  const start = args.string('start');
  if (start !== undefined) spec.start = parseTime('start', start, now);
  const deadline = args.string('deadline');
  if (deadline !== undefined) spec.deadline = parseTime('deadline', deadline, now);
  const preemptible = args.toggle('preemptible');
  if (preemptible !== undefined) spec.preemptible = preemptible;
  const image = args.string('image');
  if (image !== undefined) spec.image = image;
  const group = args.string('group');
  if (group !== undefined) spec.group = group;
  const recurrence = recurrenceFromArgs(args, now);
  if (recurrence) spec.recurrence = recurrence;

  // The server checks these too; checking here makes them usage errors worded in options.
  if ((kind === 'exact' || kind === 'periodic') && spec.start === undefined) throw new UsageError(`${kind === 'exact' ? 'an' : 'a'} ${kind} lease needs --start TIME`);
  if (kind === 'deadline' && spec.deadline === undefined) throw new UsageError('a deadline lease needs --deadline TIME');
  if (kind === 'periodic' && !spec.recurrence) throw new UsageError('a periodic lease needs --period D with --count N or --until TIME');
  if (kind !== 'periodic' && spec.recurrence) throw new UsageError('--period, --count, --until and --accept-partial are for periodic leases (--kind periodic)');
  return spec;
}

function recurrenceFromArgs(args: Args, now: number): LeaseSpec['recurrence'] | undefined {
  const period = args.string('period');
  const count = args.string('count');
  const until = args.string('until');
  const acceptPartial = args.flag('accept-partial');
  if (period === undefined) {
    if (count !== undefined || until !== undefined || acceptPartial) throw new UsageError('--count, --until and --accept-partial go with --period D');
    return undefined;
  }
  if (count === undefined && until === undefined) throw new UsageError('--period needs --count N or --until TIME (or both)');
  return {
    period: parseDuration('period', period),
    ...(count !== undefined ? { count: integerOption('count', count, 1) } : {}),
    ...(until !== undefined ? { until: parseTime('until', until, now) } : {}),
    ...(acceptPartial ? { acceptPartial: true } : {}),
  };
}

/** The options that make specFromArgs return `spec`; defaults the server fills in are left out. */
export function specArgs(spec: LeaseSpec): string[] {
  const out = ['--kind', spec.kind, '--nodes', String(spec.nodes), '--cpu', String(spec.cpu), '--memory', String(spec.memoryMiB)];
  if (spec.diskMiB) out.push('--disk', String(spec.diskMiB));
  out.push('--duration', durationText(spec.duration));
  if (spec.start !== undefined) out.push('--start', timeText(spec.start));
  if (spec.deadline !== undefined) out.push('--deadline', timeText(spec.deadline));
  if (spec.preemptible !== undefined && spec.preemptible !== (spec.kind === 'best-effort')) out.push(spec.preemptible ? '--preemptible' : '--no-preemptible');
  if (spec.image !== undefined) out.push('--image', spec.image);
  const r = spec.recurrence;
  if (r) {
    out.push('--period', durationText(r.period));
    if (r.count !== undefined) out.push('--count', String(r.count));
    if (r.until !== undefined) out.push('--until', timeText(r.until));
    if (r.acceptPartial) out.push('--accept-partial');
  }
  if (spec.group !== undefined) out.push('--group', spec.group);
  return out;
}

/** A word as a POSIX shell reads it back unchanged. */
export function shellWord(word: string): string {
  return /^[A-Za-z0-9_@%+=:,./-]+$/.test(word) ? word : `'${word.replaceAll("'", `'\\''`)}'`;
}

export function commandLine(words: string[]): string {
  return words.map(shellWord).join(' ');
}
