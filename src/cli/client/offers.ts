// What the scheduler answers a lease request with, for people: when it would run, or why not,
// the earliest start that works and the alternatives, each as the command that asks for it.

import { commandLine, type LeaseSpec, specArgs } from './lease-spec.ts';
import { durationText, relativeText } from './parse-time.ts';
import { when } from './tables.ts';
import { chargeText } from './lease-text.ts';

export interface Alternative {
  kind: string;
  request: LeaseSpec;
  start: number;
  end: number;
}

interface Occurrence {
  id: string;
  start: number;
  ok: boolean;
  message?: string;
}

/** One back-end's answer, beside the others', on a site of several. */
export interface BackendOption {
  backend: string; ok: boolean; start: number | null; end: number | null; chosen: boolean;
  price: { amount: number | null; unit: string; dollars?: number } | null; reason?: string; message?: string;
}

type OnBackends = { backend?: string; burst?: { backend: string; at: number }; options?: BackendOption[] };

export type QuoteBody = OnBackends & (
  | { ok: true; kind: string; state: string; start: number; end: number; nodes: number[]; preempted: Array<{ leaseId: string; how: string }>; occurrences?: Occurrence[]; note?: string }
  | { ok: false; kind: string; reason: string; message: string; earliestStart: number | null; alternatives: Alternative[]; occurrences?: Occurrence[] });

/**
 * The earliest start and alternatives of a refusal. `verb` is the lease subcommand to print
 * (create, hold) and `extra` the options that are not part of the spec (--ttl of a hold).
 */
export function alternativesText(refusal: { earliestStart?: number | null; alternatives?: unknown[] }, verb: string, extra: string[], now: number): string[] {
  const lines: string[] = [];
  if (refusal.earliestStart !== undefined && refusal.earliestStart !== null) lines.push(`earliest start that works: ${when(refusal.earliestStart)} (${relativeText(refusal.earliestStart, now)})`);
  const alternatives = (refusal.alternatives ?? []) as Alternative[];
  if (alternatives.length > 0) lines.push('would be accepted instead:');
  for (const a of alternatives) {
    const r = a.request;
    lines.push(`  ${a.kind}: ${r.nodes} node${r.nodes === 1 ? '' : 's'} for ${durationText(r.duration)}, ${when(a.start)} to ${when(a.end)}`);
    lines.push(`    ${commandLine(['vws', 'lease', verb, ...specArgs(r), ...extra])}`);
  }
  return lines;
}

export function quoteText(q: QuoteBody, now: number): string {
  const lines: string[] = [];
  if (q.ok) {
    const verdict = q.state === 'queued' ? 'would be queued' : 'would be accepted';
    lines.push(`${q.kind} lease ${verdict}: ${when(q.start)} (${relativeText(q.start, now)}) to ${when(q.end)}${q.nodes.length ? ` on ${q.nodes.length} node${q.nodes.length === 1 ? '' : 's'}` : ''}`);
    if (q.note) lines.push(q.note);
    for (const p of q.preempted) lines.push(`would preempt ${p.leaseId} (${p.how})`);
  } else {
    lines.push(`${q.kind} lease would be refused (${q.reason}): ${q.message}`);
    lines.push(...alternativesText(q, 'create', [], now));
  }
  for (const o of q.occurrences ?? []) lines.push(`occurrence ${o.id} at ${when(o.start)}: ${o.ok ? 'fits' : `does not fit (${o.message ?? 'refused'})`}`);
  if (q.burst) lines.push(`waits on the pool; moves to ${q.burst.backend} at ${when(q.burst.at)} (${relativeText(q.burst.at, now)}) if it has not begun`);
  lines.push(...optionLines(q.options, now));
  return lines.join('\n');
}

/** Each back-end's answer, the site's choice marked: what `--backend NAME` would pick instead. */
export function optionLines(options: readonly BackendOption[] | undefined, now: number): string[] {
  if (!options) return [];
  const lines = ['on each back-end (--backend NAME to choose):'];
  for (const o of options) {
    const price = o.price ? `, ${chargeText(o.price)}` : '';
    const mark = o.chosen ? '  <- the site\'s choice' : '';
    if (o.ok && o.start !== null) lines.push(`  ${o.backend}: from ${when(o.start)} (${relativeText(o.start, now)})${o.end !== null ? ` to ${when(o.end)}` : ''}${price}${mark}`);
    else lines.push(`  ${o.backend}: not possible (${o.reason ?? 'refused'}): ${o.message ?? ''}${mark}`);
  }
  return lines;
}
