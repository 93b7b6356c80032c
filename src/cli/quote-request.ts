import type { LeaseKind, LeaseRequest, Recurrence } from '../core/types.ts';
import { parseLwfTime } from '../sim/readers/lwf-time.ts';
import { UsageError } from './usage-error.ts';

const KINDS: readonly LeaseKind[] = ['best-effort', 'immediate', 'exact', 'urgent', 'deadline', 'periodic'];
const FIELDS = ['id', 'kind', 'start', 'duration', 'nodes', 'cpu', 'memoryMiB', 'deadline', 'preemptible', 'period', 'count', 'until', 'acceptPartial'];
const EXAMPLE = '{"kind":"exact","start":"10:01:00:00","duration":"04:00:00","nodes":64}';

/** Seconds, or a [DD:]HH:MM:SS time as in LWF. */
export function parseTime(what: string, raw: unknown): number {
  if (typeof raw === 'number' && Number.isInteger(raw) && raw >= 0) return raw;
  if (typeof raw === 'string') {
    if (/^\d+$/.test(raw.trim())) return Number(raw);
    const t = parseLwfTime(raw.trim());
    if (t !== null) return t;
  }
  throw new UsageError(`${what} must be whole seconds or [DD:]HH:MM:SS, got ${JSON.stringify(raw)}`);
}

/**
 * The lease request a `--quote` JSON object describes, arriving at `at`; per-node resources
 * default to a whole node of the pool.
 */
export function parseQuoteRequest(text: string, at: number, node: { cpu: number; memoryMiB: number }): LeaseRequest {
  let o: Record<string, unknown>;
  try {
    o = JSON.parse(text);
  } catch (e) {
    throw new UsageError(`--quote is not JSON (${(e as Error).message}); for example ${EXAMPLE}`);
  }
  if (typeof o !== 'object' || o === null || Array.isArray(o)) throw new UsageError(`--quote must be a JSON object, for example ${EXAMPLE}`);
  for (const k of Object.keys(o)) if (!FIELDS.includes(k)) throw new UsageError(`--quote has an unknown field '${k}'; the fields are ${FIELDS.join(', ')}`);
  const kind = (o.kind ?? 'exact') as LeaseKind;
  if (!KINDS.includes(kind)) throw new UsageError(`--quote kind must be one of ${KINDS.join(', ')}, got ${JSON.stringify(o.kind)}`);
  if (o.duration === undefined) throw new UsageError(`--quote needs a duration, for example ${EXAMPLE}`);
  const duration = parseTime('--quote duration', o.duration);
  if (duration <= 0) throw new UsageError('--quote duration must be longer than 0 s');
  const nodes = o.nodes ?? 1;
  if (!Number.isInteger(nodes) || (nodes as number) < 1) throw new UsageError(`--quote nodes must be a whole number >= 1, got ${JSON.stringify(o.nodes)}`);
  const positiveNumber = (name: string, fallback: number): number => {
    const v = o[name] ?? fallback;
    if (typeof v !== 'number' || !(v > 0)) throw new UsageError(`--quote ${name} must be a number > 0, got ${JSON.stringify(o[name])}`);
    return v;
  };
  const needsStart = kind === 'exact' || kind === 'periodic';
  if (needsStart && o.start === undefined) throw new UsageError(`--quote of a ${kind} lease needs a start`);
  const req: LeaseRequest = {
    id: typeof o.id === 'string' && o.id !== '' ? o.id : 'quote',
    kind,
    arrival: at,
    requestedStart: o.start === undefined ? null : parseTime('--quote start', o.start),
    duration,
    nodes: nodes as number,
    perNode: { cpu: positiveNumber('cpu', node.cpu), memoryMiB: positiveNumber('memoryMiB', node.memoryMiB), diskMiB: 0 },
    preemptible: o.preemptible === true,
  };
  if (kind === 'deadline') {
    if (o.deadline === undefined) throw new UsageError('--quote of a deadline lease needs a deadline');
    req.deadline = parseTime('--quote deadline', o.deadline);
  }
  if (kind === 'periodic') {
    const recurrence: Recurrence = { period: parseTime('--quote period', o.period) };
    if (o.count !== undefined) recurrence.count = o.count as number;
    if (o.until !== undefined) recurrence.until = parseTime('--quote until', o.until);
    if (o.acceptPartial !== undefined) recurrence.acceptPartial = o.acceptPartial === true;
    req.recurrence = recurrence;
  }
  return req;
}
