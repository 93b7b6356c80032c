// What every chart has around its data: the title, a legend when there is more than one series,
// the value axis with its grid, and the axis labels. Both chart kinds lay themselves out with it.

import type { Scale } from './axis-scale.ts';
import { element, px, textElement } from './svg-markup.ts';

export interface Size {
  width: number;
  height: number;
}

/** Where the data is drawn, in pixels from the top left. */
export interface PlotArea {
  left: number;
  top: number;
  width: number;
  height: number;
}

/** Okabe and Ito's palette: told apart with any colour vision, and in greyscale by lightness. */
export const SERIES_COLOURS: readonly string[] = ['#0072B2', '#D55E00', '#009E73', '#CC79A7'];

export const INK = '#222';
export const GRID = '#ddd';
const TITLE_BASELINE = 22;
const LEGEND_BASELINE = 42;
/** Roughly how wide a character of the 12 px sans-serif is: enough to space legend entries. */
const CHARACTER_WIDTH = 6.6;

/** The plot area inside a chart of `size`, leaving `bottom` pixels under it for the category or time axis. */
export function plotArea(size: Size, bottom: number): PlotArea {
  const left = 72;
  const top = 56;
  return { left, top, width: size.width - left - 20, height: size.height - top - bottom };
}

export function colourOf(series: number): string {
  return SERIES_COLOURS[series % SERIES_COLOURS.length];
}

/** The title, and a legend under it when more than one series shares the chart. */
export function header(plot: PlotArea, title: string, series: readonly string[]): string[] {
  const out = [textElement('text', { x: plot.left, y: TITLE_BASELINE, 'font-size': 15, 'font-weight': 'bold', fill: INK }, title)];
  if (series.length < 2) return out;
  let x = plot.left;
  const entries = series.map((name, i) => {
    const entry = element('g', {},
      element('rect', { x, y: LEGEND_BASELINE - 10, width: 12, height: 12, fill: colourOf(i) }),
      textElement('text', { x: x + 17, y: LEGEND_BASELINE, fill: INK }, name));
    x += 17 + name.length * CHARACTER_WIDTH + 18;
    return entry;
  });
  out.push(element('g', { 'aria-hidden': 'true' }, ...entries));
  return out;
}

/** Where value `v` falls on the value axis. */
export function yOf(plot: PlotArea, scale: Scale, v: number): number {
  return plot.top + plot.height * (1 - (v - scale.min) / (scale.max - scale.min));
}

/** The value axis: a grid line and a label at each tick, and the axis's name turned along it. */
export function valueAxis(plot: PlotArea, scale: Scale, label: string): string[] {
  const right = plot.left + plot.width;
  const ticks = scale.ticks.map((t) => {
    const y = px(yOf(plot, scale, t));
    return element('g', {},
      element('path', { d: `M${px(plot.left)} ${y}H${px(right)}`, stroke: t === 0 ? INK : GRID }),
      textElement('text', { x: plot.left - 6, y: Number(y) + 4, 'text-anchor': 'end', fill: INK }, scale.format(t)));
  });
  const middle = plot.top + plot.height / 2;
  return [
    element('g', {}, ...ticks),
    element('path', { d: `M${px(plot.left)} ${px(plot.top)}V${px(plot.top + plot.height)}`, stroke: INK }),
    textElement('text', { x: 16, y: middle, transform: `rotate(-90 16 ${px(middle)})`, 'text-anchor': 'middle', fill: INK }, label),
  ];
}

/** A label on the axis under the plot, `below` pixels under it. */
export function axisLabel(plot: PlotArea, label: string, below: number): string {
  return textElement('text', { x: plot.left + plot.width / 2, y: plot.top + plot.height + below, 'text-anchor': 'middle', fill: INK }, label);
}

/** A tick label under the plot at `x`, `below` pixels under it. */
export function tickLabel(plot: PlotArea, x: number, text: string, below = 18, extra: Record<string, string | number> = {}): string {
  return textElement('text', { x, y: plot.top + plot.height + below, 'text-anchor': 'middle', fill: INK, ...extra }, text);
}
