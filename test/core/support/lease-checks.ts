// Checks that need to know more than the export says (e.g. which leases are preemptible).

import type { LeaseRequest } from '../../../src/core/types.ts';
import { parseSchedule } from './schedule-checker.ts';

/** Seconds to move `sizeMiB` at `rateMBps`, written from the design ("memory / rate", an infinite rate is free). */
export function moveSeconds(sizeMiB: number, rateMBps: number): number {
  return rateMBps === Infinity || sizeMiB <= 0 ? 0 : Math.ceil(sizeMiB / rateMBps);
}

/** A non-preemptible best-effort lease is never suspended, never cut short and never loses work. */
export function nonPreemptibleViolations(requests: readonly LeaseRequest[], lines: readonly string[]): string[] {
  const out: string[] = [];
  const { leases } = parseSchedule(lines);
  for (const r of requests) {
    if (r.kind !== 'best-effort' || r.preemptible) continue;
    const attempts = leases.filter((l) => l.id.startsWith(`${r.id}/attempt-`));
    if (attempts.length > 0) out.push(`lease ${r.id} is not preemptible but lost ${attempts.length} attempt(s)`);
    const line = leases.find((l) => l.id === r.id);
    if (!line || line.outcome !== 'completed') continue;
    const kinds = line.segments.map((s) => s.kind);
    const runs = kinds.filter((k) => k === 'run').length;
    if (runs !== 1) out.push(`lease ${r.id} is not preemptible but ran in ${runs} run segments`);
    for (const k of ['suspend', 'resume', 'migrate']) if (kinds.includes(k)) out.push(`lease ${r.id} is not preemptible but has a ${k} segment`);
  }
  return out;
}

/** With preemption 'requeue' no lease is ever suspended: there are no suspend, resume or migrate segments. */
export function suspensionSegmentsIn(lines: readonly string[]): string[] {
  const out: string[] = [];
  for (const l of parseSchedule(lines).leases) {
    for (const s of l.segments) if (s.kind === 'suspend' || s.kind === 'resume' || s.kind === 'migrate') out.push(`lease ${l.id}: ${s.kind} [${s.start}, ${s.end})`);
  }
  return out;
}
