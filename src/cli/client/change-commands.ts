// vws lease change | extend | shorten | resize | move: renegotiating a live lease. Each quotes
// with --quote (nothing changes) or makes the change; a refusal prints the changes that would
// be accepted instead, each as the command that asks for it.

import { UsageError } from '../usage-error.ts';
import { type Args, integerOption, positiveNumberOption } from './args.ts';
import { type Command, connect, emit, enc, now } from './command.ts';
import { ApiFailure } from './errors.ts';
import type { LeaseBody } from './lease-text.ts';
import { chargeText } from './lease-text.ts';
import { durationText, parseDuration, parseTime, relativeText } from './parse-time.ts';
import { when } from './tables.ts';

interface Change {
  duration?: number;
  start?: number;
  nodes?: number;
  cpu?: number;
  memoryMiB?: number;
  bandwidthMbps?: number;
  roles?: Record<string, number>;
  backend?: string;
}

interface Price { amount: number | null; unit: string; dollars?: number }

interface ChangeAnswer {
  ok: boolean;
  leaseId: string;
  change: Change;
  how?: string;
  start?: number | null;
  end?: number | null;
  nodes?: string[];
  preempted?: Array<{ leaseId: string; how: string }>;
  note?: string;
  priceBefore?: Price | null;
  price?: Price | null;
}

interface ChangeAlternative {
  kind: string;
  change: Change;
  start: number;
  end: number;
}

const HOW: Record<string, string> = {
  replan: 'placed again as changed',
  'in-place': 'its run changes where it runs',
  requeue: 'back in the queue as changed',
  work: 'the work it has left changes; it runs it when it resumes',
};

/** The options that say a change, as the API's body. */
function changeOf(args: Args): Change {
  const c: Change = {};
  const duration = args.string('duration');
  if (duration !== undefined) c.duration = parseDuration('duration', duration);
  const start = args.string('start');
  if (start !== undefined) c.start = parseTime('start', start);
  const nodes = args.string('nodes');
  if (nodes !== undefined) c.nodes = integerOption('nodes', nodes, 1);
  const cpu = args.string('cpu');
  if (cpu !== undefined) c.cpu = positiveNumberOption('cpu', cpu);
  const memory = args.string('memory');
  if (memory !== undefined) c.memoryMiB = integerOption('memory', memory, 1);
  const bandwidth = args.string('bandwidth');
  if (bandwidth !== undefined) c.bandwidthMbps = positiveNumberOption('bandwidth', bandwidth);
  for (const role of args.list('role')) {
    const m = /^([a-z][a-z0-9-]{0,30})=(\d+)$/.exec(role);
    if (!m) throw new UsageError(`--role must be ROLE=COUNT, e.g. --role worker=4; got '${role}'`);
    (c.roles ??= {})[m[1]] = integerOption('role', m[2], 1);
  }
  const backend = args.string('backend');
  if (backend !== undefined) c.backend = backend;
  return c;
}

/** The command line that asks for `change` of lease `id`. */
function changeLine(id: string, c: Change): string {
  const parts = [`vws lease change ${id}`];
  if (c.backend !== undefined) parts.push(`--backend ${c.backend}`);
  if (c.duration !== undefined) parts.push(`--duration ${durationText(c.duration)}`);
  if (c.start !== undefined) parts.push(`--start ${c.start}`);
  if (c.nodes !== undefined) parts.push(`--nodes ${c.nodes}`);
  if (c.cpu !== undefined) parts.push(`--cpu ${c.cpu}`);
  if (c.memoryMiB !== undefined) parts.push(`--memory ${c.memoryMiB}`);
  if (c.bandwidthMbps !== undefined) parts.push(`--bandwidth ${c.bandwidthMbps}`);
  for (const [role, count] of Object.entries(c.roles ?? {})) parts.push(`--role ${role}=${count}`);
  return parts.join(' ');
}

function answerText(a: ChangeAnswer, done: boolean): string {
  const lines = [`lease ${a.leaseId} ${done ? 'changed' : 'can be changed'}: ${HOW[a.how ?? ''] ?? a.how}`];
  if (a.start != null) lines.push(`  runs ${when(a.start)} (${relativeText(a.start, now())}) to ${a.end != null ? when(a.end) : '-'}${a.nodes?.length ? ` on ${a.nodes.join(', ')}` : ''}`);
  for (const p of a.preempted ?? []) lines.push(`  preempts ${p.leaseId} (${p.how})`);
  if (a.note) lines.push(`  ${a.note}`);
  if (a.price && a.priceBefore) lines.push(`  price ${chargeText(a.priceBefore)} -> ${chargeText(a.price)}`);
  if (!done) lines.push(`  to make it: ${changeLine(a.leaseId, a.change)}`);
  return lines.join('\n');
}

/** Quotes (--quote) or makes `change` of the lease named on the line. */
async function send(args: Args, change: Change): Promise<number> {
  const id = args.positionals[0];
  if (Object.keys(change).length === 0) throw new UsageError(`${args.command} needs something to change: --duration, --start, --nodes, --cpu, --memory, --bandwidth, --role or --backend`);
  const quoting = args.flag('quote');
  try {
    const res = await connect(args).send<{ quote?: ChangeAnswer; change?: ChangeAnswer; lease?: LeaseBody }>('POST', `/v1/leases/${enc(id)}/${quoting ? 'quote-change' : 'change'}`, change);
    const answer = (quoting ? res.body.quote : res.body.change)!;
    return emit(args, res.body, () => answerText(answer, !quoting));
  } catch (e) {
    if (e instanceof ApiFailure && Array.isArray(e.body.alternatives)) {
      for (const alt of e.body.alternatives as ChangeAlternative[]) e.hint.push(`  instead (${alt.kind}, runs ${when(alt.start)} to ${when(alt.end)}): ${changeLine(id, alt.change)}`);
    }
    throw e;
  }
}

/** The lease's duration as asked, read from the server: extend and shorten are relative to it. */
async function durationOf(args: Args): Promise<number> {
  const res = await connect(args).get<{ spec: { duration: number } }>(`/v1/leases/${enc(args.positionals[0])}`);
  return res.body.spec.duration;
}

const change: Command = (args) => send(args, changeOf(args));

const extend: Command = async (args) => {
  const by = parseDuration('by', args.required('by', 'D (how much longer, e.g. 2h)'));
  return send(args, { duration: (await durationOf(args)) + by });
};

const shorten: Command = async (args) => {
  const by = parseDuration('by', args.required('by', 'D (how much shorter, e.g. 30m)'));
  const duration = (await durationOf(args)) - by;
  if (duration < 1) throw new UsageError(`--by ${durationText(by)} would leave lease ${args.positionals[0]} no time at all: to end it now, vws lease stop ${args.positionals[0]}`);
  return send(args, { duration });
};

const resize: Command = (args) => {
  const c = changeOf(args);
  if (c.nodes === undefined && c.cpu === undefined && c.memoryMiB === undefined && c.bandwidthMbps === undefined && c.roles === undefined) throw new UsageError('lease resize needs --nodes, --cpu, --memory, --bandwidth or --role ROLE=COUNT');
  return send(args, c);
};

const move: Command = (args) => send(args, { start: parseTime('start', args.required('start', 'TIME (the new start)')) });

export const CHANGE_COMMANDS: Record<string, Command> = { change, extend, shorten, resize, move };
