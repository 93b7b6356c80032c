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

function segmentsOut(segments: readonly Segment[], nodes: readonly NodeSpec[]) {
  return segments
    .filter((s) => s.end > s.start)
    .map((s) => ({ start: s.start, end: s.end, nodes: s.nodes.map((i) => nodes[i].id), kind: s.kind }));
}

/**
 * One JSON line per lease, in submission order. An attempt that was cancelled after it began
 * (its work lost, the lease queued again) is a line of its own, `ID/attempt-K`, outcome cancelled.
 */
export function* scheduleLines(leases: readonly LeaseRecord[], nodes: readonly NodeSpec[]): Generator<string> {
  yield scheduleHeader(nodes);
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
      yield JSON.stringify({ id: `${r.id}/attempt-${k + 1}`, ...common, ...deadline, outcome: 'cancelled', requeued: true, segments: segmentsOut(l.lost[k].segments, nodes) });
    }
    const reason = l.rejectReason ? { reason: l.rejectReason } : {};
    yield JSON.stringify({ id: r.id, ...common, ...deadline, outcome: outcomeOf(l), ...reason, segments: segmentsOut(l.history, nodes) });
  }
}
