// The live Gantt of the slot table: nodes down, time across, zoom (ctrl+wheel, +/-, buttons), pan
// (drag, shift+wheel, arrow keys), rows scrolled natively. It fetches the window it shows and some
// on each side, and again whenever `refresh` changes (the page bumps it on lease events).

import { useEffect, useMemo, useRef, useState } from 'preact/hooks';
import type { Api } from '../api.ts';
import { clock, dateTime, span } from '../time.ts';
import { KIND_COLOUR, SEGMENT_LABEL } from './colours.ts';
import { AXIS_HEIGHT, draw, LABEL_WIDTH, type Overlay, ROW_HEIGHT, visibleRows } from './draw.ts';
import { barAt, buildModel, type Model, type Slots } from './model.ts';
import { LONGEST_WINDOW, useFetchedSlots } from './use-slots.ts';

export interface GanttProps {
  /** Where the table comes from: fetched through the API (live), or given (a what-if replay's). */
  api?: Api;
  slots?: Slots;
  refresh?: number;
  selected?: string | null;
  preempted?: ReadonlySet<string>;
  /** A quoted lease not yet made, drawn over the table on the nodes it would take. */
  ghostIds?: { start: number; end: number; nodeIds: readonly string[] } | null;
  /** Where the view opens: the instants at its edges (an hour back to five ahead). */
  window?: { t0: number; t1: number };
  /** A view shared with another Gantt (two schedules on one time axis): given, it is not the Gantt's own. */
  view?: { t0: number; t1: number };
  onView?: (v: { t0: number; t1: number }) => void;
  onSelect?: (leaseId: string) => void;
  label?: string;
}

const NONE: ReadonlySet<string> = new Set();

export function Gantt(props: GanttProps) {
  const nowSec = () => Math.floor(Date.now() / 1000);
  const [ownView, setOwnView] = useState(() => props.window ?? { t0: nowSec() - 3600, t1: nowSec() + 5 * 3600 });
  const view = props.view ?? ownView;
  const setView = (v: { t0: number; t1: number }) => (props.onView ? props.onView(v) : setOwnView(v));
  const [scrollTop, setScrollTop] = useState(0);
  const [width, setWidth] = useState(900);
  const fetched = useFetchedSlots(props.slots ? null : props.api ?? null, view, props.refresh ?? 0);
  const given = useMemo(() => (props.slots ? buildModel(props.slots) : null), [props.slots]);
  const model = given ?? fetched.model;
  const error = fetched.error;
  const [hover, setHover] = useState<{ x: number; y: number; text: string } | null>(null);
  const canvas = useRef<HTMLCanvasElement>(null);
  const box = useRef<HTMLDivElement>(null);
  const drag = useRef<{ x: number; t0: number; t1: number } | null>(null);
  const firstDraw = useRef(true);
  const height = model ? Math.min(AXIS_HEIGHT + model.rows.length * ROW_HEIGHT, 640) : 200;

  useEffect(() => {
    if (props.window) setView(props.window);
  }, [props.window?.t0, props.window?.t1]);

  useEffect(() => {
    const el = box.current;
    if (!el) return;
    const ro = new ResizeObserver(() => setWidth(Math.max(400, el.clientWidth)));
    ro.observe(el);
    return () => ro.disconnect();
  }, []);

  const ghost = useMemo(() => {
    const g = props.ghostIds;
    if (!g || !model) return null;
    const index = new Map(model.slots.nodes.map((n, i) => [n.id, i]));
    return { start: g.start, end: g.end, nodes: g.nodeIds.map((id) => index.get(id)).filter((i): i is number => i !== undefined) };
  }, [props.ghostIds, model]);
  // A replay's table has its own now: the instant its log ends.
  const overlay: Overlay = { now: props.slots?.now ?? nowSec(), selected: props.selected ?? null, preempted: props.preempted ?? NONE, ghost };
  useEffect(() => {
    const c = canvas.current;
    if (!c || !model) return;
    const frame = requestAnimationFrame(() => {
      const t = performance.now();
      const dpr = window.devicePixelRatio || 1;
      c.width = Math.round(width * dpr);
      c.height = Math.round(height * dpr);
      const g = c.getContext('2d')!;
      g.setTransform(dpr, 0, 0, dpr, 0, 0);
      draw(g, model, { t0: view.t0, t1: view.t1, scrollTop, width, height }, overlay);
      // Read by the benchmark and the browser test: how long the last draw took.
      c.dataset.drawMs = (performance.now() - t).toFixed(2);
      if (firstDraw.current) {
        firstDraw.current = false;
        performance.mark('vws-gantt-first-draw');
      }
    });
    return () => cancelAnimationFrame(frame);
  }, [model, view.t0, view.t1, scrollTop, width, height, overlay.selected, overlay.ghost, overlay.preempted]);

  // The now-line moves on its own.
  const [, tick] = useState(0);
  useEffect(() => {
    const timer = setInterval(() => tick((n) => n + 1), 10_000);
    return () => clearInterval(timer);
  }, []);

  const zoom = (factor: number, at = (view.t0 + view.t1) / 2) => {
    const len = Math.min(LONGEST_WINDOW / 3, Math.max(60, (view.t1 - view.t0) * factor));
    const left = (at - view.t0) / (view.t1 - view.t0);
    setView({ t0: Math.round(at - len * left), t1: Math.round(at - len * left + len) });
  };
  const pan = (fraction: number) => {
    const d = Math.round((view.t1 - view.t0) * fraction);
    setView({ t0: view.t0 + d, t1: view.t1 + d });
  };
  const timeAt = (px: number) => view.t0 + ((px - LABEL_WIDTH) / (width - LABEL_WIDTH)) * (view.t1 - view.t0);

  const onWheel = (e: WheelEvent) => {
    if (e.ctrlKey || e.metaKey) {
      e.preventDefault();
      zoom(e.deltaY > 0 ? 1.25 : 0.8, timeAt(e.offsetX));
    } else if (e.shiftKey || Math.abs(e.deltaX) > Math.abs(e.deltaY)) {
      e.preventDefault();
      pan((e.deltaX || e.deltaY) / (width - LABEL_WIDTH));
    }
  };
  const onKey = (e: KeyboardEvent) => {
    const keys: Record<string, () => void> = { ArrowLeft: () => pan(-0.1), ArrowRight: () => pan(0.1), '+': () => zoom(0.8), '=': () => zoom(0.8), '-': () => zoom(1.25) };
    const act = keys[e.key];
    if (act) {
      e.preventDefault();
      act();
    }
  };
  const onMove = (e: MouseEvent) => {
    if (drag.current) {
      const d = ((drag.current.x - e.offsetX) / (width - LABEL_WIDTH)) * (drag.current.t1 - drag.current.t0);
      setView({ t0: Math.round(drag.current.t0 + d), t1: Math.round(drag.current.t1 + d) });
      return;
    }
    setHover(describeAt(model, e.offsetX, e.offsetY, scrollTop, timeAt(e.offsetX)));
  };
  const onClick = (e: MouseEvent) => {
    const found = model && pick(model, e.offsetY, scrollTop, timeAt(e.offsetX));
    if (found && props.onSelect) props.onSelect(found);
  };

  const rows = model ? visibleRows(model, { t0: view.t0, t1: view.t1, scrollTop, width, height }) : [0, 0];
  const summary = useMemo(() => (model ? inView(model, view.t0, view.t1, rows[0], rows[1]) : []), [model, view.t0, view.t1, rows[0], rows[1]]);
  const label = props.label ?? 'Slot table';
  return (
    <section class="gantt" aria-label={label}>
      <div class="gantt-tools" role="toolbar" aria-label="Zoom and pan">
        <button type="button" onClick={() => pan(-0.5)} aria-label="Earlier">◀</button>
        <button type="button" onClick={() => zoom(0.5)} aria-label="Zoom in">+</button>
        <button type="button" onClick={() => zoom(2)} aria-label="Zoom out">−</button>
        <button type="button" onClick={() => pan(0.5)} aria-label="Later">▶</button>
        {[['1 h', 3600], ['6 h', 6 * 3600], ['1 day', 86_400], ['1 week', 7 * 86_400]].map(([name, len]) => (
          <button type="button" key={name} onClick={() => setView({ t0: nowSec() - Math.round((len as number) / 6), t1: nowSec() + Math.round(((len as number) * 5) / 6) })}>{name}</button>
        ))}
        <span class="gantt-range">{dateTime(view.t0)} – {dateTime(view.t1)} ({span(view.t1 - view.t0)})</span>
        {model && <span class="gantt-count">{model.slots.nodes.length} nodes, {model.slots.leases.length} leases</span>}
      </div>
      {error && <p class="error" role="alert">{error}</p>}
      <Legend />
      <div class="gantt-scroll" ref={box} style={{ height: `${height}px` }} onScroll={(e) => setScrollTop((e.currentTarget as HTMLDivElement).scrollTop)}>
        <div style={{ height: `${model ? AXIS_HEIGHT + model.rows.length * ROW_HEIGHT : height}px`, position: 'relative' }}>
          <canvas
            ref={canvas}
            class="gantt-canvas"
            style={{ width: `${width}px`, height: `${height}px` }}
            tabIndex={0}
            role="img"
            aria-label={`${label}: ${model?.slots.nodes.length ?? 0} nodes from ${dateTime(view.t0)} to ${dateTime(view.t1)}; arrow keys pan, plus and minus zoom. The leases in view are listed below.`}
            onWheel={onWheel}
            onKeyDown={onKey}
            onMouseDown={(e) => (drag.current = { x: e.offsetX, t0: view.t0, t1: view.t1 })}
            onMouseUp={() => (drag.current = null)}
            onMouseLeave={() => {
              drag.current = null;
              setHover(null);
            }}
            onMouseMove={onMove}
            onClick={onClick}
          />
          {hover && <div class="gantt-tip" style={{ left: `${hover.x + 12}px`, top: `${hover.y + scrollTop + 12}px` }}>{hover.text}</div>}
        </div>
      </div>
      <details class="gantt-text">
        <summary>Leases in view, as text ({summary.length})</summary>
        <ul data-testid="gantt-leases">
          {summary.map((s) => <li key={s.key} data-lease={s.id ?? ''} data-status={s.status}>{s.text}</li>)}
        </ul>
      </details>
    </section>
  );
}

function Legend() {
  return (
    <ul class="gantt-legend" aria-label="Legend">
      {Object.entries(KIND_COLOUR).map(([kind, colour]) => <li key={kind}><span class="swatch" style={{ background: colour }} />{kind}</li>)}
      <li><span class="swatch busy" />another user's</li>
      <li><span class="swatch light" />boot, shutdown</li>
      <li><span class="swatch hatched" />suspend, resume</li>
      <li><span class="swatch striped" />migration</li>
      <li><span class="swatch lost" />work lost</li>
      <li><span class="swatch now" />now</li>
    </ul>
  );
}

function rowLane(model: Model, y: number, scrollTop: number): { node: number; lane: number } | null {
  const ry = y + scrollTop - AXIS_HEIGHT;
  if (ry < 0) return null;
  const node = Math.floor(ry / ROW_HEIGHT);
  const row = model.rows[node];
  if (!row) return null;
  const lane = Math.floor(((ry - node * ROW_HEIGHT - 1) / (ROW_HEIGHT - 2)) * row.lanes);
  return { node, lane: Math.min(row.lanes - 1, Math.max(0, lane)) };
}

function pick(model: Model, y: number, scrollTop: number, t: number): string | null {
  const at = rowLane(model, y, scrollTop);
  const bar = at && barAt(model, at.node, t, at.lane);
  return bar ? model.slots.leases[bar.lease].id : null;
}

function describeAt(model: Model | null, x: number, y: number, scrollTop: number, t: number): { x: number; y: number; text: string } | null {
  if (!model || x < LABEL_WIDTH) return null;
  const at = rowLane(model, y, scrollTop);
  const bar = at && barAt(model, at.node, t, at.lane);
  if (!at || !bar) return null;
  const lease = model.slots.leases[bar.lease];
  const who = lease.id === null ? `another user's ${lease.kind} lease` : `${lease.id} (${lease.kind}, ${lease.status}${lease.owner ? `, ${lease.owner}` : ''})`;
  return { x, y, text: `${who}: ${bar.lost ? 'lost ' : ''}${SEGMENT_LABEL[bar.kind]} on ${model.slots.nodes[at.node].id}, ${clock(bar.start)}–${clock(bar.end)}` };
}

/** The leases with a bar in view, for the text alternative (at most 200). */
function inView(model: Model, t0: number, t1: number, first: number, last: number): Array<{ key: string; id: string | null; status: string; text: string }> {
  const seen = new Map<number, Set<number>>();
  for (let r = first; r < last && seen.size < 200; r++) {
    for (const bar of model.rows[r].bars) {
      if (bar.end <= t0 || bar.start >= t1) continue;
      if (!seen.has(bar.lease)) seen.set(bar.lease, new Set());
      seen.get(bar.lease)!.add(r);
    }
  }
  return [...seen].map(([i, rows]) => {
    const l = model.slots.leases[i];
    const nodes = [...rows].map((r) => model.slots.nodes[r].id).join(', ');
    const segs = l.segments.filter(([, s, e]) => e > t0 && s < t1).map(([k, s, e]) => `${SEGMENT_LABEL[k]} ${clock(s)}–${clock(e)}`).join('; ');
    return { key: `${i}`, id: l.id, status: l.status, text: `${l.id ?? "another user's lease"} (${l.kind}, ${l.status}) on ${nodes}: ${segs}` };
  });
}
