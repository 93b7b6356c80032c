// `vws sim --replay STORE`: a site's own log replayed as it ran and under a policy document,
// their figures side by side (docs/simulator.md, "What-if replay"). The work is the control
// layer's (control/replay/); this reads the command line and prints.

import { writeFileSync } from 'node:fs';
import { parse, join } from 'node:path';
import type { Terms } from '../core/terms.ts';
import { readSiteLog } from '../control/replay/read-site-log.ts';
import { ReplayRefused } from '../control/replay/site-log.ts';
import { whatIf, type WhatIfResult } from '../control/replay/what-if.ts';
import type { SimMetrics } from '../sim/metrics.ts';
import { formatDuration } from './format.ts';
import { readTermsFile } from './terms-file.ts';
import { UsageError } from './usage-error.ts';

/** What goes with --replay: its policy document and outputs (and the global options). */
const WITH_REPLAY = new Set(['replay', 'terms', 'schedule', 'json', 'server', 'token']);

/** The options of vws sim that a replay reads (./local-commands.ts describes them); any other given is refused. */
export interface SimReplayOptions {
  replay?: string; trace?: string; terms?: string; schedule?: string; json?: boolean;
}

export async function simReplayCommand(v: SimReplayOptions): Promise<number> {
  if (v.trace !== undefined) throw new UsageError('--trace and --replay: a replay\'s workload is the site\'s own log; give one or the other');
  const other = Object.entries(v as Record<string, unknown>).find(([k, value]) => !WITH_REPLAY.has(k) && value !== undefined && value !== false);
  if (other) throw new UsageError(`--${other[0]} does not go with --replay: the pool and the workload are the site's own, and the policy is the --terms document's`);
  const terms: Terms | null = v.terms === undefined ? null : readTermsFile(v.terms);
  const result = await refusedAsUsage(async () => whatIf(await readSiteLog(v.replay!), terms));
  if (result.inputs === 0) throw new UsageError(`--replay ${v.replay}: the store's log is empty: the site has had no input yet`);
  if (v.schedule) {
    writeFileSync(v.schedule, `${result.whatIf.schedule.join('\n')}\n`);
    writeFileSync(realScheduleFile(v.schedule), `${result.real.schedule.join('\n')}\n`);
  }
  const under = v.terms === undefined ? 'under its own terms' : `under ${v.terms}`;
  process.stdout.write(v.json ? `${JSON.stringify(jsonOf(v.replay!, v.terms ?? null, result))}\n` : `${replayTable(v.replay!, under, result)}\n`);
  return 0;
}

/** Where --schedule FILE puts the schedule as it ran: `.real` before FILE's extension (s.jsonl: s.real.jsonl). */
export function realScheduleFile(file: string): string {
  const { dir, name, ext } = parse(file);
  return join(dir, `${name}.real${ext}`);
}

async function refusedAsUsage<T>(fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (e) {
    if (e instanceof ReplayRefused) throw new UsageError(`--replay ${e.message}`);
    throw e;
  }
}

function jsonOf(store: string, terms: string | null, r: WhatIfResult): unknown {
  return { store, terms, from: r.from, to: r.to, inputs: r.inputs, dropped: r.dropped, holdsNeverCommitted: r.holdsNeverCommitted, real: r.real.metrics, whatIf: r.whatIf.metrics };
}

type Row = [string, (m: SimMetrics, r: WhatIfResult) => number, (n: number) => string, (d: number) => string];

const signed = (d: number, text: string): string => (d > 0 ? `+${text}` : d < 0 ? `-${text}` : '0');
const count = (n: number): string => String(n);
const seconds = (n: number): string => `${Math.round(n)} s (${formatDuration(n)})`;

const ROWS: Row[] = [
  ['leases', (m) => m.leases, count, (d) => signed(d, String(Math.abs(d)))],
  ['completed', (m) => m.completed, count, (d) => signed(d, String(Math.abs(d)))],
  ['rejected', (m) => m.rejected, count, (d) => signed(d, String(Math.abs(d)))],
  // An instant of the log's axis, shown from its first input.
  ['all best-effort done at', (m, r) => (m.allBestEffort > 0 ? m.allBestEffort - r.from : 0), (n) => `+${seconds(n)}`, (d) => signed(d, seconds(Math.abs(d)))],
  ['mean wait', (m) => m.meanWait, seconds, (d) => signed(d, seconds(Math.abs(d)))],
  ['mean bounded slowdown', (m) => m.meanBoundedSlowdown, (n) => n.toFixed(2), (d) => signed(Number(d.toFixed(2)), Math.abs(d).toFixed(2))],
  ['utilization', (m) => m.utilization, (n) => `${(n * 100).toFixed(1)}%`, (d) => signed(Number((d * 100).toFixed(1)), `${Math.abs(d * 100).toFixed(1)} points`)],
  ['suspensions', (m) => m.suspensions, count, (d) => signed(d, String(Math.abs(d)))],
  ['migrations', (m) => m.migrations, count, (d) => signed(d, String(Math.abs(d)))],
  ['preemptions', (m) => m.preemptions, count, (d) => signed(d, String(Math.abs(d)))],
  ['charged', (m) => m.charges?.total ?? 0, (n) => n.toFixed(2), (d) => signed(Number(d.toFixed(2)), Math.abs(d).toFixed(2))],
];

/** One row per metric: as it ran, under the document, and the difference (the second less the first). */
export function replayTable(store: string, under: string, r: WhatIfResult): string {
  const unit = (m: SimMetrics) => m.charges?.unit ?? '';
  const cells = [
    ['', 'as it ran', under, 'difference'],
    ...ROWS.map(([name, get, show, diff]) => {
      const [a, b] = [get(r.real.metrics, r), get(r.whatIf.metrics, r)];
      const [ua, ub] = name === 'charged' ? [` ${unit(r.real.metrics)}`, ` ${unit(r.whatIf.metrics)}`] : ['', ''];
      return [name, `${show(a)}${ua}`, `${show(b)}${ub}`, ua === ub ? `${diff(b - a)}${ua}` : 'another unit'];
    }),
  ];
  const widths = cells[0].map((_, k) => Math.max(...cells.map((row) => row[k].length)));
  const lines = cells.map((row) => row.map((c, k) => c.padEnd(widths[k])).join('  ').trimEnd());
  const d = r.dropped;
  const left = [[d.suspend, 'owner suspends'], [d.resume, 'owner resumes'], [d.migrate, 'live migrations'], [d.terms, 'changes of terms']].filter(([n]) => n !== 0).map(([n, what]) => `${n} ${what}`);
  return [
    `${store}: ${r.inputs} inputs from ${new Date(r.from * 1000).toISOString()} to ${new Date(r.to * 1000).toISOString()} (${formatDuration(r.to - r.from)}), ${r.nodes.length} nodes`,
    ...lines,
    `left out of the what-if: ${left.length > 0 ? left.join(', ') : 'nothing'}${r.holdsNeverCommitted > 0 ? `; ${r.holdsNeverCommitted} holds never committed are in both schedules, not in the figures` : ''}`,
  ].join('\n');
}
