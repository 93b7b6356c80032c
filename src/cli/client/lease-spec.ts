// A lease spec from command-line options, and the options that ask for a given spec: the second
// is how a refusal's alternatives become command lines a person can paste back.

import type { LeaseSpec } from '../../api/schemas.ts';
import { readFileSync } from 'node:fs';
import { UsageError } from '../usage-error.ts';
import { type Args, integerOption, positiveNumberOption } from './args.ts';
import { durationText, parseDuration, parseTime, timeText } from './parse-time.ts';
import { roleFlag, roleFromFlag } from './role-flag.ts';

export type { LeaseSpec };

export const KINDS = ['best-effort', 'immediate', 'exact', 'urgent', 'deadline', 'periodic'] as const;

/**
 * The lease body from the options, over `base` (a lease file's body): an option given replaces
 * the file's field. Without a file or --role, a lease of one shape needs --nodes, --cpu and
 * --memory; with them, what is missing or wrong is left to the server, which names the field.
 */
export function specFromArgs(args: Args, now = Math.floor(Date.now() / 1000), base: Record<string, unknown> = {}): LeaseSpec {
  // Best-effort asks the least of the pool: it waits for room rather than being refused.
  const flagKind = args.string('kind');
  if (flagKind !== undefined && !(KINDS as readonly string[]).includes(flagKind)) throw new UsageError(`--kind must be one of ${KINDS.join(', ')}; got '${flagKind}'`);
  // A file's kind, right or wrong, goes to the server, which names the field.
  const kind = flagKind ?? (base.kind as string | undefined) ?? 'best-effort';
  const roles = args.list('role').map(roleFromFlag);
  const spec = { ...base, kind } as LeaseSpec;
  if (roles.length > 0) spec.roles = roles;
  const fromFile = Object.keys(base).length > 0;
  const shaped = fromFile || roles.length > 0;
  const shape = [['nodes', 'nodes', 'N (how many VMs, one per node)'], ['cpu', 'cpu', 'C (CPUs per VM)'], ['memory', 'memoryMiB', 'MiB (memory per VM)']] as const;
  for (const [option, field, what] of shape) {
    const text = shaped ? args.string(option) : args.required(option, roles.length === 0 ? `${what}, or --role (a cluster), or -f FILE` : what);
    if (text !== undefined) spec[field] = option === 'cpu' ? positiveNumberOption(option, text) : integerOption(option, text, 1);
  }
  const duration = fromFile ? args.string('duration') : args.required('duration', 'D (e.g. 2h30m)');
  if (duration !== undefined) spec.duration = parseDuration('duration', duration);
  const disk = args.string('disk');
  if (disk !== undefined) spec.diskMiB = integerOption('disk', disk, 0);
  const bandwidth = args.string('bandwidth');
  if (bandwidth !== undefined) spec.bandwidthMbps = positiveNumberOption('bandwidth', bandwidth);
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
  const backend = args.string('backend');
  if (backend !== undefined) spec.backend = backend;
  const recurrence = recurrenceFromArgs(args, now);
  if (recurrence) spec.recurrence = recurrence;
  Object.assign(spec, guestFilesFromArgs(args));

  // The server checks these too; checking here makes them usage errors worded in options.
  if ((kind === 'exact' || kind === 'periodic') && spec.start === undefined) throw new UsageError(`${kind === 'exact' ? 'an' : 'a'} ${kind} lease needs --start TIME`);
  if (kind === 'deadline' && spec.deadline === undefined) throw new UsageError('a deadline lease needs --deadline TIME');
  if (kind === 'periodic' && !spec.recurrence) throw new UsageError('a periodic lease needs --period D with --count N or --until TIME');
  if (kind !== 'periodic' && spec.recurrence) throw new UsageError('--period, --count, --until and --accept-partial are for periodic leases (--kind periodic)');
  return spec;
}

/** --user-data FILE and --ssh-key FILE (repeatable): the files' text, as the API takes it. */
function guestFilesFromArgs(args: Args): Pick<LeaseSpec, 'userData' | 'sshPublicKeys'> {
  const out: Pick<LeaseSpec, 'userData' | 'sshPublicKeys'> = {};
  const userData = args.string('user-data');
  if (userData !== undefined) out.userData = readText('user-data', userData);
  const keys = args.list('ssh-key');
  // A .pub file holds one key line; authorized_keys-style files may hold several.
  if (keys.length > 0) out.sshPublicKeys = keys.flatMap((f) => readText('ssh-key', f).split('\n').map((l) => l.trim()).filter((l) => l !== '' && !l.startsWith('#')));
  return out;
}

function readText(option: string, path: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch (e) {
    throw new UsageError(`--${option} ${path}: cannot read it (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
  }
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

/** The options that make specFromArgs return `spec`; defaults the server fills in are left out (and user-data and keys, which are files). */
export function specArgs(spec: LeaseSpec): string[] {
  const out = ['--kind', spec.kind];
  if (spec.roles) for (const r of spec.roles) out.push('--role', roleFlag(r));
  else out.push('--nodes', String(spec.nodes), '--cpu', String(spec.cpu), '--memory', String(spec.memoryMiB));
  if (spec.diskMiB) out.push('--disk', String(spec.diskMiB));
  if (!spec.roles && spec.bandwidthMbps !== undefined) out.push('--bandwidth', String(spec.bandwidthMbps));
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
  if (spec.backend !== undefined) out.push('--backend', spec.backend);
  return out;
}

/** A word as a POSIX shell reads it back unchanged. */
export function shellWord(word: string): string {
  return /^[A-Za-z0-9_@%+=:,./-]+$/.test(word) ? word : `'${word.replaceAll("'", `'\\''`)}'`;
}

export function commandLine(words: string[]): string {
  return words.map(shellWord).join(' ');
}
