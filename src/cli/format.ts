import type { SimMetrics } from '../sim/metrics.ts';
import type { ChangeFigures } from '../sim/workload-changes.ts';

/** 2674265 -> "30d 22:51:05" */
export function formatDuration(seconds: number): string {
  const s = Math.round(seconds);
  const d = Math.floor(s / 86400);
  const hms = [Math.floor((s % 86400) / 3600), Math.floor((s % 3600) / 60), s % 60].map((x) => String(x).padStart(2, '0')).join(':');
  return d > 0 ? `${d}d ${hms}` : hms;
}

export function metricsTable(m: SimMetrics): string {
  const rows: Array<[string, string]> = [
    ['leases', String(m.leases)],
    ['completed', String(m.completed)],
    ['rejected', String(m.rejected)],
    ['all best-effort done at', `${m.allBestEffort} s (${formatDuration(m.allBestEffort)})`],
    ['mean wait', `${m.meanWait.toFixed(0)} s (${formatDuration(m.meanWait)})`],
    ['mean bounded slowdown', m.meanBoundedSlowdown.toFixed(2)],
    ['utilization', `${(m.utilization * 100).toFixed(1)}%`],
    ['suspensions', String(m.suspensions)],
    ['migrations', String(m.migrations)],
    ['preemptions', String(m.preemptions)],
    ...changesRows(m.changes),
    ...(m.charges ? [['charged', `${m.charges.total.toFixed(2)} ${m.charges.unit} (${Object.entries(m.charges.byKind).map(([k, v]) => `${k} ${v!.toFixed(2)}`).join(', ')})`] as [string, string]] : []),
    ['wall time', `${m.wallSeconds.toFixed(2)} s`],
  ];
  const width = Math.max(...rows.map(([k]) => k.length));
  return rows.map(([k, v]) => `${k.padEnd(width)}  ${v}`).join('\n');
}

/** A one-line progress bar on a terminal, shown only once a run has taken a second. */
export function progressBar(stream: NodeJS.WriteStream, label: string): { update(fraction: number): void; done(): void } {
  const started = process.hrtime.bigint();
  let shown = false;
  const elapsed = (): number => Number(process.hrtime.bigint() - started) / 1e9;
  return {
    update(fraction) {
      if (!stream.isTTY || elapsed() < 1) return;
      shown = true;
      const width = 30;
      const filled = Math.round(Math.min(1, fraction) * width);
      stream.write(`\r${label} [${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${(fraction * 100).toFixed(0).padStart(3)}% ${elapsed().toFixed(1)} s`);
    },
    done() {
      if (shown) stream.write('\r\x1b[K');
    },
  };
}

/** The row of the workload's changes, if it asked for any. */
export function changesRows(c: ChangeFigures | undefined): Array<[string, string]> {
  if (!c) return [];
  const refused = c.made < c.asked ? ` (refused: ${Object.entries(c.refused).map(([k, v]) => `${k} ${v}`).join(', ')})` : '';
  return [['changes made', `${c.made} of ${c.asked}${refused}`]];
}
