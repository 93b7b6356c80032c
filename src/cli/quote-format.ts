import type { Quote } from '../core/negotiation.ts';
import { formatDuration } from './format.ts';

const at = (t: number): string => `${t} s (${formatDuration(t)})`;

/** A quote as a person reads it: the answer first, then what else would be accepted. */
export function quoteText(q: Quote, nodeIds: readonly string[]): string {
  const lines: string[] = [];
  const names = (nodes: readonly number[]): string => (nodes.length > 6 ? `${nodes.slice(0, 6).map((n) => nodeIds[n]).join(',')},... (${nodes.length})` : nodes.map((n) => nodeIds[n]).join(','));
  if (q.ok) {
    lines.push(`${q.kind} lease ${q.leaseId}: would be ${q.state === 'queued' ? 'queued' : 'accepted'}`);
    lines.push(`  runs from ${at(q.start)} to ${at(q.end)}${q.nodes.length ? ` on ${names(q.nodes)}` : ''}`);
    if (q.note) lines.push(`  ${q.note}`);
    for (const p of q.preempted) lines.push(`  preempts ${p.leaseId} (${p.how})`);
  } else {
    lines.push(`${q.kind} lease ${q.leaseId}: would be refused (${q.reason}): ${q.message}`);
    if (q.earliestStart !== null) lines.push(`  earliest start that works: ${at(q.earliestStart)}`);
    if (q.alternatives.length > 0) lines.push('  would be accepted instead:');
    for (const a of q.alternatives) {
      const r = a.request;
      const extra = a.kind === 'later-deadline' ? `, deadline ${at(r.deadline!)}` : '';
      lines.push(`    ${a.kind.padEnd(14)} ${r.nodes} nodes x ${formatDuration(r.duration)} from ${at(a.start)}${extra}`);
    }
  }
  for (const o of q.occurrences ?? []) lines.push(`  occurrence ${o.id} at ${at(o.start)}: ${o.ok ? 'fits' : `does not fit (${o.message})`}`);
  return lines.join('\n');
}
