// A line chart over simulated time: each series holds a value over each of its intervals (a
// bucket's mean), drawn as steps so that a reader sees where each figure starts and stops.

import { scaleFor, type ValueKind } from './axis-scale.ts';
import { axisLabel, colourOf, header, INK, plotArea, type Size, tickLabel, valueAxis, yOf } from './chart-frame.ts';
import { element, px, svgDocument } from './svg-markup.ts';

export interface Step {
  from: number;
  to: number;
  value: number;
}

export interface StepSeries {
  name: string;
  /** In time order, each starting where the one before it ends. */
  steps: readonly Step[];
}

export interface LineChartSpec {
  title: string;
  /** What the chart shows, in words, for those who cannot see it. */
  description: string;
  xLabel: string;
  yLabel: string;
  yKind: ValueKind;
  /** A range the value axis shows whatever the data (0 to 1 for a share of the pool). */
  yRange?: readonly [number, number];
  series: readonly StepSeries[];
  size?: Size;
}

const SIZE: Size = { width: 760, height: 360 };

export function lineChart(spec: LineChartSpec): string {
  const size = spec.size ?? SIZE;
  const plot = plotArea(size, 50);
  const values = spec.series.flatMap((s) => s.steps.map((st) => st.value));
  const yScale = scaleFor(spec.yKind, Math.min(spec.yRange?.[0] ?? 0, ...values), Math.max(spec.yRange?.[1] ?? 0, ...values));
  const end = Math.max(1, ...spec.series.flatMap((s) => s.steps.map((st) => st.to)));
  const xScale = scaleFor('seconds', 0, end, 8, true);
  const xOf = (t: number): number => plot.left + (plot.width * (t - xScale.min)) / (xScale.max - xScale.min);
  const bottom = plot.top + plot.height;
  const xTicks = xScale.ticks.map((t) => element('g', {},
    element('path', { d: `M${px(xOf(t))} ${px(bottom)}v5`, stroke: INK }),
    tickLabel(plot, xOf(t), xScale.format(t))));
  // The first series is drawn last, on top: where a later one (a sum that includes it) equals it, the first shows.
  const lines = spec.series.map((s, i) => {
    let d = '';
    for (const st of s.steps) {
      const y = px(yOf(plot, yScale, st.value));
      d += d === '' ? `M${px(xOf(st.from))} ${y}` : `V${y}`;
      d += `H${px(xOf(st.to))}`;
    }
    return element('path', { d, fill: 'none', stroke: colourOf(i), 'stroke-width': 1.5, 'stroke-linejoin': 'round' });
  });
  return svgDocument(size, spec.title, spec.description, [
    ...header(plot, spec.title, spec.series.map((s) => s.name)),
    ...valueAxis(plot, yScale, spec.yLabel),
    element('g', {}, ...xTicks),
    axisLabel(plot, spec.xLabel, 42),
    element('g', { 'aria-hidden': 'true' }, ...lines.reverse()),
  ]);
}
