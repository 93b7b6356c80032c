// A grouped bar chart: one group of bars per category, one bar per series, growing from zero (up
// or down). Consecutive categories may share a section, named once under them: the HPDC'08 chart's
// configurations, each over its three reservation loads.

import { scaleFor, valueText, type ValueKind } from './axis-scale.ts';
import { axisLabel, colourOf, GRID, header, plotArea, type Size, tickLabel, valueAxis, yOf } from './chart-frame.ts';
import { element, px, svgDocument, textElement } from './svg-markup.ts';

export interface BarGroup {
  label: string;
  /** A second line under the label (how many leases a class holds). */
  note?: string;
  section?: string;
  /** One per series; null: no bar (nothing to show for that series here). */
  values: ReadonlyArray<number | null>;
}

export interface BarChartSpec {
  title: string;
  /** What the chart shows, in words, for those who cannot see it. */
  description: string;
  xLabel: string;
  yLabel: string;
  yKind: ValueKind;
  series: readonly string[];
  groups: readonly BarGroup[];
  size?: Size;
}

const SIZE: Size = { width: 760, height: 360 };
/** The share of a group's width its bars take; the rest parts one group from the next. */
const BARS_SHARE = 0.75;

/** Runs of consecutive groups with the same section, as [first, last] indices. */
function sectionRuns(groups: readonly BarGroup[]): Array<{ name: string; first: number; last: number }> {
  const runs: Array<{ name: string; first: number; last: number }> = [];
  groups.forEach((g, i) => {
    const last = runs[runs.length - 1];
    if (g.section === undefined) return;
    if (last && last.name === g.section && last.last === i - 1) last.last = i;
    else runs.push({ name: g.section, first: i, last: i });
  });
  return runs;
}

export function barChart(spec: BarChartSpec): string {
  const size = spec.size ?? SIZE;
  const runs = sectionRuns(spec.groups);
  // Lines under the plot: the labels, the notes, the sections, then the axis's name.
  const noteLine = spec.groups.some((g) => g.note !== undefined) ? 1 : 0;
  const sectionLine = noteLine + (runs.length > 0 ? 1 : 0);
  const lineBelow = (k: number): number => 18 + 16 * k;
  const plot = plotArea(size, lineBelow(sectionLine + 1) + 12);
  const values = spec.groups.flatMap((g) => g.values.filter((v): v is number => v !== null));
  const yScale = scaleFor(spec.yKind, Math.min(0, ...values), Math.max(0, ...values));
  const groupWidth = plot.width / Math.max(1, spec.groups.length);
  const barWidth = (groupWidth * BARS_SHARE) / Math.max(1, spec.series.length);
  const zero = yOf(plot, yScale, 0);
  const bars = spec.groups.flatMap((g, gi) => g.values.map((v, si) => {
    if (v === null) return '';
    const y = yOf(plot, yScale, v);
    const x = plot.left + gi * groupWidth + (groupWidth * (1 - BARS_SHARE)) / 2 + si * barWidth;
    const what = `${g.section === undefined ? '' : `${g.section} `}${g.label}, ${spec.series[si]}: ${valueText(spec.yKind, v)}`;
    return element('rect', { x, y: Math.min(y, zero), width: barWidth, height: Math.abs(zero - y), fill: colourOf(si) }, textElement('title', {}, what));
  }));
  const labels = spec.groups.flatMap((g, gi) => {
    const x = plot.left + (gi + 0.5) * groupWidth;
    return [tickLabel(plot, x, g.label), ...(g.note === undefined ? [] : [tickLabel(plot, x, g.note, lineBelow(1), { 'font-size': 11, fill: '#555' })])];
  });
  const sections = runs.map((r) => tickLabel(plot, plot.left + ((r.first + r.last + 1) / 2) * groupWidth, r.name, lineBelow(sectionLine), { 'font-weight': 'bold' }));
  // A rule between sections, so that each section's groups read as one.
  const rules = runs.slice(1).map((r) => {
    const x = px(plot.left + r.first * groupWidth);
    return element('path', { d: `M${x} ${px(plot.top)}V${px(plot.top + plot.height + lineBelow(sectionLine) + 4)}`, stroke: GRID });
  });
  return svgDocument(size, spec.title, spec.description, [
    ...header(plot, spec.title, spec.series),
    ...valueAxis(plot, yScale, spec.yLabel),
    ...rules,
    element('g', {}, ...bars),
    element('g', {}, ...labels, ...sections),
    axisLabel(plot, spec.xLabel, lineBelow(sectionLine + 1) + 4),
  ]);
}
