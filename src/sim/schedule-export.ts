import type { LeaseRecord } from '../core/lease-record.ts';
import type { Segment } from '../core/segment.ts';
import type { NodeSpec, Outcome } from '../core/types.ts';

export const SCHEDULE_FORMAT = 'vws.schedule/v1';

export function scheduleHeader(nodes: readonly NodeSpec[]): string {
  return JSON.stringify({ format: SCHEDULE_FORMAT, nodes: nodes.map((n) => ({ id: n.id, cpu: n.cpu, memoryMiB: n.memoryMiB })) });
}

function outcomeOf(lease: LeaseRecord): Outcome {
  if (lease.state === 'completed') return 'completed';
  if (lease.state === 'rejected') return 'rejected';
  return 'cancelled';
}

/**
 * The JSON of a lease's segments, written by hand as JSON.stringify would write
 * [{start, end, nodes: [ids], kind}]: on the whole SDSC log (232,562 leases) building and
 * stringifying those objects took longer than the rest of the line. Node lists are shared by a
 * chain's segments and written once.
 */
function segmentsJson(segments: readonly Segment[], nodeIds: readonly string[]): string {
  let out = '[';
  let lastNodes: readonly number[] | null = null;
  let lastJson = '';
  for (const s of segments) {
    if (!(s.end > s.start)) continue;
    if (s.nodes !== lastNodes) {
      lastNodes = s.nodes;
      lastJson = s.nodes.map((i) => nodeIds[i]).join(',');
    }
    if (out.length > 1) out += ',';
    out += `{"start":${JSON.stringify(s.start)},"end":${JSON.stringify(s.end)},"nodes":[${lastJson}],"kind":${JSON.stringify(s.kind)}}`;
  }
  return `${out}]`;
}

/** A line whose last member is "segments": the lease's fields stringified, the segments' JSON put in place of []. */
function withSegments(fields: object, segments: string): string {
  const json = JSON.stringify({ ...fields, segments: [] });
  return `${json.slice(0, -3)}${segments}}`;
}

/**
 * One JSON line per lease, in submission order. An attempt that was cancelled after it began
 * (its work lost, the lease queued again) is a line of its own, `ID/attempt-K`, outcome cancelled.
 */
export function* scheduleLines(leases: readonly LeaseRecord[], nodes: readonly NodeSpec[]): Generator<string> {
  yield scheduleHeader(nodes);
  const nodeIds = nodes.map((n) => JSON.stringify(n.id));
  for (const l of leases) {
    // A periodic lease is exported as its occurrences, each a line of its own.
    if (l.state === 'expanded') continue;
    const r = l.req;
    const common = {
      kind: r.kind, arrival: r.arrival, requestedStart: r.requestedStart, duration: r.duration,
      realDuration: r.realDuration ?? r.duration, nodes: r.nodes, cpu: r.perNode.cpu, memoryMiB: r.perNode.memoryMiB,
    };
    const deadline = r.deadline !== undefined ? { deadline: r.deadline } : {};
    for (let k = 0; k < l.lost.length; k++) {
      yield withSegments({ id: `${r.id}/attempt-${k + 1}`, ...common, ...deadline, outcome: 'cancelled', requeued: true }, segmentsJson(l.lost[k].segments, nodeIds));
    }
    const reason = l.rejectReason ? { reason: l.rejectReason } : {};
    yield withSegments({ id: r.id, ...common, ...deadline, outcome: outcomeOf(l), ...reason }, segmentsJson(l.history, nodeIds));
  }
}

/**
 * The lines, newline-terminated, in pieces of about `size` characters: written one line at a time,
 * a whole SDSC log's export (150 MB in 232,563 lines) spends its time in the stream's bookkeeping.
 */
export function* textChunks(lines: Iterable<string>, size = 1 << 20): Generator<string> {
  let chunk = '';
  for (const line of lines) {
    chunk += `${line}\n`;
    if (chunk.length >= size) {
      yield chunk;
      chunk = '';
    }
  }
  if (chunk.length > 0) yield chunk;
}
