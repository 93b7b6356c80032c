// What the VM leases got, and what the pilots cost, in a run of the pilot simulation (or of vws on
// a pool of its own, for the static split).

import type { LeaseRecord } from '../core/lease-record.ts';
import type { NodeSpec } from '../core/types.ts';
import { computeMetrics } from './metrics.ts';
import type { PilotSimResult } from './pilot-simulation.ts';

export interface VmMetrics {
  leases: number;
  completed: number;
  /** Run node-hours done by the window's end, and in all. */
  workInWindowNodeHours: number;
  workNodeHours: number;
  /** Leases completed by the window's end, and their work. */
  completedInWindow: number;
  completedInWindowNodeHours: number;
  meanWait: number;
  meanBoundedSlowdown: number;
  /** When the last VM lease completed. */
  lastEnd: number;
  suspensions: number;
  migrations: number;
}

export function vmMetrics(leases: readonly LeaseRecord[], nodes: readonly NodeSpec[], window: number): VmMetrics {
  const m = computeMetrics(leases, nodes, 0);
  let inWindow = 0;
  let all = 0;
  let completedInWindow = 0;
  let completedWork = 0;
  let lastEnd = 0;
  for (const l of leases) {
    for (const s of l.history) {
      if (s.kind !== 'run') continue;
      all += (s.end - s.start) * s.nodes.length;
      inWindow += Math.max(0, Math.min(s.end, window) - s.start) * s.nodes.length;
    }
    if (l.state !== 'completed') continue;
    lastEnd = Math.max(lastEnd, l.endedAt!);
    if (l.endedAt! <= window) {
      completedInWindow++;
      completedWork += l.done * l.req.nodes;
    }
  }
  return {
    leases: m.leases, completed: m.completed, workInWindowNodeHours: inWindow / 3600, workNodeHours: all / 3600,
    completedInWindow, completedInWindowNodeHours: completedWork / 3600, meanWait: m.meanWait, meanBoundedSlowdown: m.meanBoundedSlowdown,
    lastEnd, suspensions: m.suspensions, migrations: m.migrations,
  };
}

export interface PilotMetrics {
  submitted: number;
  started: number;
  /** Pilots the batch system signalled to go (a batch job needed their nodes). */
  preempted: number;
  /** Let go by vws, idle past the timeout. */
  released: number;
  timeLimit: number;
  /** Node-hours pilots held, and the share of them a VM lease held (booting, running, suspending...). */
  heldNodeHours: number;
  usedShare: number;
}

export function pilotMetrics(run: PilotSimResult): PilotMetrics {
  const held = run.tenures.reduce((a, t) => a + t.end - t.start, 0);
  let used = 0;
  for (const l of run.scheduler.allLeases()) for (const s of l.history) if (s.kind !== 'transfer') used += (s.end - s.start) * s.nodes.length;
  return { ...run.pilots, heldNodeHours: held / 3600, usedShare: held > 0 ? used / held : 0 };
}

/**
 * What the shared schedule checker cannot see, as the pool's nodes come and go: every VM segment
 * (but image transfers) on a node while a pilot held it, and every pilot's hold of a node within
 * its job's run on the batch side, on that job's nodes. Empty when sound.
 */
export function tenureViolations(run: PilotSimResult): string[] {
  const out: string[] = [];
  const byNode = new Map<number, Array<{ start: number; end: number }>>();
  for (const t of run.tenures) byNode.set(t.node, [...(byNode.get(t.node) ?? []), t]);
  for (const l of run.scheduler.allLeases()) {
    for (const seg of [...l.history, ...l.lost.flatMap((a) => a.segments)]) {
      if (seg.kind === 'transfer') continue;
      for (const n of seg.nodes) {
        if (!(byNode.get(n) ?? []).some((t) => t.start <= seg.start && seg.end <= t.end)) out.push(`${l.req.id} ${seg.kind} [${seg.start}, ${seg.end}) on ${run.nodes[n].id}, which no pilot held then`);
      }
    }
  }
  for (const t of run.tenures) {
    const job = run.batch.record(t.pilot);
    if (!job || !job.nodes.includes(t.node) || job.start !== t.start || job.end !== t.end) out.push(`${t.pilot} held ${run.nodes[t.node].id} over [${t.start}, ${t.end}), not its batch job's run`);
  }
  return out;
}
