// The chart docs/hpdc08.md shows: HPDC 2008 Table 1's growth figures, ours beside the published
// ones, for each configuration at each reservation load. Drawn from the rows repro-hpdc08.ts
// writes to bench/results/hpdc08.json.

import { valueText } from '../src/sim/plots/axis-scale.ts';
import { barChart } from '../src/sim/plots/bar-chart.ts';
import type { StudyConfig } from './hpdc08-configs.ts';

/** The fields of a row of bench/results/hpdc08.json the chart reads. */
export interface GrowthRow {
  variant?: string;
  config: StudyConfig;
  bandwidthMBps: number | null;
  loadPercent: number;
  growthPercent: number;
  publishedGrowthPercent: number;
}

/** The bandwidth of the rows shown: the archived configuration's value, closer to the table (docs/hpdc08.md). */
const CHART_BANDWIDTH = 100;

export function hpdc08Chart(rows: readonly GrowthRow[]): string {
  const shown = rows.filter((r) => r.variant === undefined && (r.bandwidthMBps === null || r.bandwidthMBps === CHART_BANDWIDTH));
  const pct = (x: number): string => `${x > 0 ? '+' : ''}${valueText('fraction', x / 100)}`;
  return barChart({
    title: "HPDC'08 Table 1: all best-effort leases done, growth over the baseline",
    description: `The growth of the time all best-effort leases are done, over the run without reservations, by configuration and advance-reservation load, `
      + `vws (B = ${CHART_BANDWIDTH} MB/s) against the published figures (Sotomayor, Keahey, Foster, HPDC 2008): `
      + `${shown.map((r) => `${r.config} ${r.loadPercent}%: ${pct(r.growthPercent)} against ${pct(r.publishedGrowthPercent)}`).join('; ')}.`,
    xLabel: 'advance-reservation load, by configuration',
    yLabel: 'growth over the baseline',
    yKind: 'fraction',
    series: [`vws, B = ${CHART_BANDWIDTH} MB/s`, 'published'],
    groups: shown.map((r) => ({ label: `${r.loadPercent}%`, section: r.config, values: [r.growthPercent / 100, r.publishedGrowthPercent / 100] })),
    size: { width: 960, height: 400 },
  });
}
