// Draws the slot table on a canvas: only the rows and the bars in view, so that 1,000 nodes and
// 10,000 leases cost what one screenful costs. Pure drawing: the component owns the state.

import { BUSY_COLOUR, KIND_COLOUR, SEGMENT_SHADE, type Shade } from './colours.ts';
import { type Bar, firstBarFrom, type Model } from './model.ts';

export const LABEL_WIDTH = 120;
export const AXIS_HEIGHT = 28;
export const ROW_HEIGHT = 18;

export interface Viewport {
  /** The instants at the plot's left and right edges. */
  t0: number;
  t1: number;
  /** Pixels scrolled down the rows. */
  scrollTop: number;
  width: number;
  height: number;
}

/** What is drawn over the table: a quoted lease not yet made, and leases to pick out. */
export interface Overlay {
  now: number;
  selected: string | null;
  /** Leases a quote would preempt. */
  preempted: ReadonlySet<string>;
  ghost: { start: number; end: number; nodes: readonly number[] } | null;
}

const TICKS = [60, 300, 900, 1800, 3600, 3 * 3600, 6 * 3600, 12 * 3600, 86_400, 2 * 86_400, 7 * 86_400, 30 * 86_400];

export function visibleRows(model: Model, v: Viewport): [number, number] {
  const first = Math.max(0, Math.floor(v.scrollTop / ROW_HEIGHT));
  const last = Math.min(model.rows.length, Math.ceil((v.scrollTop + v.height - AXIS_HEIGHT) / ROW_HEIGHT));
  return [first, last];
}

export function draw(g: CanvasRenderingContext2D, model: Model, v: Viewport, o: Overlay): void {
  const plotW = v.width - LABEL_WIDTH;
  const perSec = plotW / (v.t1 - v.t0);
  const x = (t: number) => LABEL_WIDTH + (t - v.t0) * perSec;
  g.clearRect(0, 0, v.width, v.height);
  g.fillStyle = '#ffffff';
  g.fillRect(0, 0, v.width, v.height);
  const [first, last] = visibleRows(model, v);
  const yOf = (row: number) => AXIS_HEIGHT + row * ROW_HEIGHT - v.scrollTop;
  g.save();
  g.beginPath();
  g.rect(LABEL_WIDTH, AXIS_HEIGHT, plotW, v.height - AXIS_HEIGHT);
  g.clip();
  for (let r = first; r < last; r++) {
    const y = yOf(r);
    if (r % 2 === 1) {
      g.fillStyle = '#f3f5f8';
      g.fillRect(LABEL_WIDTH, y, plotW, ROW_HEIGHT);
    }
    const node = model.slots.nodes[r];
    if (node.departsAt !== null && node.departsAt < v.t1) {
      // A node that leaves the pool: nothing can be planned past its departure.
      g.fillStyle = pattern(g, '#9aa0a6', 'hatched');
      g.fillRect(Math.max(LABEL_WIDTH, x(node.departsAt)), y, plotW, ROW_HEIGHT);
    }
    const row = model.rows[r];
    const laneH = (ROW_HEIGHT - 2) / row.lanes;
    for (let i = firstBarFrom(row, v.t0); i < row.bars.length; i++) {
      const bar = row.bars[i];
      if (bar.start >= v.t1) break;
      if (bar.end <= v.t0) continue;
      drawBar(g, model, bar, x(bar.start), Math.max(1, (bar.end - bar.start) * perSec), y + 1 + bar.lane * laneH, laneH, o);
    }
  }
  if (o.ghost) {
    g.setLineDash([4, 3]);
    for (const n of o.ghost.nodes) {
      if (n < first || n >= last) continue;
      const gx = x(o.ghost.start);
      const gw = Math.max(2, (o.ghost.end - o.ghost.start) * perSec);
      g.fillStyle = 'rgba(255, 196, 0, 0.45)';
      g.fillRect(gx, yOf(n) + 1, gw, ROW_HEIGHT - 2);
      g.strokeStyle = '#7a5c00';
      g.lineWidth = 1.5;
      g.strokeRect(gx, yOf(n) + 1, gw, ROW_HEIGHT - 2);
    }
    g.setLineDash([]);
  }
  if (o.now >= v.t0 && o.now <= v.t1) {
    g.strokeStyle = '#d0021b';
    g.lineWidth = 2;
    g.beginPath();
    g.moveTo(x(o.now), AXIS_HEIGHT);
    g.lineTo(x(o.now), v.height);
    g.stroke();
  }
  g.restore();
  drawLabels(g, model, v, first, last, yOf);
  drawAxis(g, v, perSec, x);
}

function drawBar(g: CanvasRenderingContext2D, model: Model, bar: Bar, bx: number, bw: number, by: number, bh: number, o: Overlay): void {
  const lease = model.slots.leases[bar.lease];
  const colour = lease.id === null ? BUSY_COLOUR : KIND_COLOUR[lease.kind];
  const shade = SEGMENT_SHADE[bar.kind];
  g.globalAlpha = bar.lost ? 0.35 : 1;
  g.fillStyle = shade === 'solid' ? colour : tint(colour);
  g.fillRect(bx, by, bw, bh);
  if (shade !== 'solid' && shade !== 'light') {
    g.fillStyle = pattern(g, colour, shade);
    g.fillRect(bx, by, bw, bh);
  }
  g.globalAlpha = 1;
  const picked = lease.id !== null && (lease.id === o.selected || o.preempted.has(lease.id));
  if (picked || bar.lost) {
    g.lineWidth = picked ? 2 : 1;
    g.strokeStyle = picked ? (lease.id === o.selected ? '#000000' : '#e67e00') : '#d0021b';
    if (bar.lost) g.setLineDash([3, 2]);
    g.strokeRect(bx + 0.5, by + 0.5, Math.max(0, bw - 1), Math.max(0, bh - 1));
    g.setLineDash([]);
  }
}

function drawLabels(g: CanvasRenderingContext2D, model: Model, v: Viewport, first: number, last: number, yOf: (r: number) => number): void {
  g.fillStyle = '#ffffff';
  g.fillRect(0, AXIS_HEIGHT, LABEL_WIDTH, v.height - AXIS_HEIGHT);
  g.font = '12px system-ui, sans-serif';
  g.textBaseline = 'middle';
  for (let r = first; r < last; r++) {
    const node = model.slots.nodes[r];
    const gone = node.status === 'unavailable' || node.status === 'removed';
    g.fillStyle = gone ? '#b00020' : node.status === 'draining' ? '#57606a' : '#1f2328';
    const mark = node.status === 'active' ? '' : ` (${node.status})`;
    g.fillText(`${node.id}${mark}`, 6, yOf(r) + ROW_HEIGHT / 2, LABEL_WIDTH - 10);
  }
  g.strokeStyle = '#d0d7de';
  g.beginPath();
  g.moveTo(LABEL_WIDTH - 0.5, AXIS_HEIGHT);
  g.lineTo(LABEL_WIDTH - 0.5, v.height);
  g.stroke();
}

function drawAxis(g: CanvasRenderingContext2D, v: Viewport, perSec: number, x: (t: number) => number): void {
  g.fillStyle = '#ffffff';
  g.fillRect(0, 0, v.width, AXIS_HEIGHT);
  const step = TICKS.find((s) => s * perSec >= 90) ?? TICKS[TICKS.length - 1];
  const offset = new Date().getTimezoneOffset() * 60;
  g.font = '11px system-ui, sans-serif';
  g.textBaseline = 'middle';
  g.strokeStyle = '#d0d7de';
  g.fillStyle = '#1f2328';
  // Ticks fall on round local times (midnight, the hour).
  for (let t = Math.ceil((v.t0 - offset) / step) * step + offset; t <= v.t1; t += step) {
    const tx = Math.round(x(t)) + 0.5;
    g.beginPath();
    g.moveTo(tx, AXIS_HEIGHT - 6);
    g.lineTo(tx, v.height);
    g.globalAlpha = 0.35;
    g.stroke();
    g.globalAlpha = 1;
    g.fillText(tickLabel(t, step), tx + 3, AXIS_HEIGHT / 2);
  }
  g.beginPath();
  g.moveTo(0, AXIS_HEIGHT - 0.5);
  g.lineTo(v.width, AXIS_HEIGHT - 0.5);
  g.stroke();
}

function tickLabel(t: number, step: number): string {
  const d = new Date(t * 1000);
  const hm = `${String(d.getHours()).padStart(2, '0')}:${String(d.getMinutes()).padStart(2, '0')}`;
  return step >= 86_400 || (d.getHours() === 0 && d.getMinutes() === 0) ? `${d.getMonth() + 1}/${d.getDate()} ${hm}` : hm;
}

/** A lighter shade of a #rrggbb colour, for the phases around a run. */
function tint(hex: string): string {
  const n = Number.parseInt(hex.slice(1), 16);
  const mix = (c: number) => Math.round(c + (255 - c) * 0.55);
  return `rgb(${mix(n >> 16)}, ${mix((n >> 8) & 255)}, ${mix(n & 255)})`;
}

const patterns = new Map<string, CanvasPattern>();

function pattern(g: CanvasRenderingContext2D, colour: string, shade: Shade): CanvasPattern {
  const key = `${colour}/${shade}`;
  let p = patterns.get(key);
  if (p) return p;
  const tile = document.createElement('canvas');
  tile.width = tile.height = 8;
  const t = tile.getContext('2d')!;
  t.strokeStyle = colour;
  t.fillStyle = colour;
  t.lineWidth = 2;
  if (shade === 'hatched') {
    t.beginPath();
    t.moveTo(0, 8);
    t.lineTo(8, 0);
    t.moveTo(-2, 2);
    t.lineTo(2, -2);
    t.moveTo(6, 10);
    t.lineTo(10, 6);
    t.stroke();
  } else if (shade === 'striped') {
    t.fillRect(0, 0, 3, 8);
  } else {
    t.fillRect(3, 3, 2, 2);
  }
  p = g.createPattern(tile, 'repeat')!;
  patterns.set(key, p);
  return p;
}
