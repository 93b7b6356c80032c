// An independent checker of vws.schedule/v1 exports, written from DESIGN.md ("Contracts") and
// the lease model; it shares no code with src/ beyond reading the same JSON Lines.

export interface CheckOptions {
  /** The run's runtime overhead in percent: best-effort runs add up to round(real x (1 + p/100)). */
  runtimeOverheadPercent: number;
  /** The simulation ran until nothing was left to do: every lease is completed or rejected. */
  drained?: boolean;
  /** Leases their clients withdrew (or whose holds expired): these may end cancelled. */
  withdrawn?: ReadonlySet<string>;
  /**
   * Leases whose owner said they were done (finishEarly with no real duration known beforehand):
   * their real duration is what the last attempt ran, decided after an earlier attempt was lost,
   * so a lost attempt may have run longer than that without having finished.
   */
  finishedByOwner?: ReadonlySet<string>;
}

export interface HeaderNode {
  id: string;
  cpu: number;
  memoryMiB: number;
  /** Absent: the node does not lease bandwidth, and what leases ask of it is not counted. */
  bandwidthMbps?: number;
}

export interface ExportSegment {
  start: number;
  end: number;
  nodes: string[];
  kind: string;
}

export interface ExportLease {
  id: string;
  kind: string;
  arrival: number;
  requestedStart: number | null;
  duration: number;
  realDuration: number;
  nodes: number;
  cpu: number;
  memoryMiB: number;
  bandwidthMbps?: number;
  outcome: string;
  reason?: string;
  deadline?: number;
  segments: ExportSegment[];
}

const LEASE_KINDS = new Set(['best-effort', 'immediate', 'exact', 'urgent', 'deadline', 'periodic']);
// 'pending': a lease not yet ended, in a live service's export (shared/DESIGN.md); a drained simulation has none.
const OUTCOMES = new Set(['completed', 'rejected', 'cancelled', 'pending']);
const SEGMENT_KINDS = new Set(['transfer', 'boot', 'run', 'shutdown', 'suspend', 'resume', 'migrate']);
const ATTEMPT = /^(.*)\/attempt-(\d+)$/;
const EPS = 1e-9;

/** What a completed lease must have run in all: min(realDuration, duration), stretched for best-effort. */
export function expectedRunSeconds(l: { kind: string; duration: number; realDuration: number }, overheadPercent: number): number {
  const real = Math.min(l.realDuration, l.duration);
  if (l.kind !== 'best-effort' || overheadPercent === 0) return real;
  return Math.round(real * (1 + overheadPercent / 100));
}

/** Parsed export: header nodes and lease lines, in file order. */
export interface ParsedSchedule {
  nodes: HeaderNode[];
  leases: ExportLease[];
}

export function parseSchedule(lines: Iterable<string>): ParsedSchedule {
  const all = [...lines].filter((l) => l.trim() !== '').map((l) => JSON.parse(l));
  const [header, ...leases] = all;
  return { nodes: header?.nodes ?? [], leases };
}

/** Returns every violation of the export contract found in `lines` (empty when the schedule is sound). */
export function checkSchedule(lines: Iterable<string>, opts: CheckOptions): string[] {
  const out: string[] = [];
  const text = [...lines].filter((l) => l.trim() !== '');
  if (text.length === 0) return ['empty export: no header line'];
  let header: { format?: unknown; nodes?: HeaderNode[] };
  try {
    header = JSON.parse(text[0]);
  } catch {
    return ['line 1: not JSON'];
  }
  if (header.format !== 'vws.schedule/v1') out.push(`header: format is ${JSON.stringify(header.format)}, not "vws.schedule/v1"`);
  const capacity = new Map<string, HeaderNode>();
  for (const n of header.nodes ?? []) {
    if (capacity.has(n.id)) out.push(`header: node ${n.id} listed twice`);
    capacity.set(n.id, n);
  }
  if (capacity.size === 0) out.push('header: no nodes');

  const leases: ExportLease[] = [];
  for (let i = 1; i < text.length; i++) {
    try {
      leases.push(JSON.parse(text[i]));
    } catch {
      out.push(`line ${i + 1}: not JSON`);
    }
  }

  // Every held segment on every node, for the capacity sweep.
  const holds = new Map<string, Array<{ start: number; end: number; cpu: number; mem: number; bw: number; lease: string }>>();
  const mainIds = new Set<string>();
  const attemptsOf = new Map<string, number[]>();

  for (const l of leases) {
    const id = String(l.id);
    const m = ATTEMPT.exec(id);
    const isAttempt = m !== null;
    if (!LEASE_KINDS.has(l.kind)) out.push(`lease ${id}: unknown kind ${JSON.stringify(l.kind)}`);
    if (!OUTCOMES.has(l.outcome)) out.push(`lease ${id}: unknown outcome ${JSON.stringify(l.outcome)}`);
    if (isAttempt) {
      if (l.outcome !== 'cancelled') out.push(`lease ${id}: an attempt record with outcome ${l.outcome}, not cancelled`);
      const list = attemptsOf.get(m[1]) ?? [];
      list.push(Number(m[2]));
      attemptsOf.set(m[1], list);
      if (mainIds.has(m[1])) out.push(`lease ${id}: attempt record after its lease's own line`);
    } else {
      if (mainIds.has(id)) out.push(`lease ${id}: listed twice`);
      mainIds.add(id);
      // A lease withdrawn by its client (or whose hold expired) is cancelled; one the scheduler gave up on never is.
      if (l.outcome === 'cancelled' && !opts.withdrawn?.has(id)) out.push(`lease ${id}: outcome cancelled on a lease's own line, yet nobody withdrew it`);
      else if (opts.drained && l.outcome !== 'completed' && l.outcome !== 'rejected' && l.outcome !== 'cancelled') out.push(`lease ${id}: outcome ${l.outcome} after the simulation drained`);
    }

    const segs = Array.isArray(l.segments) ? l.segments : [];
    if (l.outcome === 'rejected') {
      if (segs.length > 0) out.push(`lease ${id}: rejected but has ${segs.length} segments`);
      continue;
    }

    for (const s of segs) {
      const where = `lease ${id}: ${s.kind} [${s.start}, ${s.end})`;
      if (!SEGMENT_KINDS.has(s.kind)) out.push(`${where}: unknown segment kind`);
      if (!Number.isInteger(s.start) || !Number.isInteger(s.end)) out.push(`${where}: times are not integer seconds`);
      if (!(s.end >= s.start)) out.push(`${where}: ends before it starts`);
      if (s.start < l.arrival) out.push(`${where}: starts before the lease's arrival ${l.arrival}`);
      const distinct = new Set(s.nodes);
      if (s.nodes.length !== l.nodes || distinct.size !== l.nodes) {
        out.push(`${where}: lists ${s.nodes.length} nodes (${distinct.size} distinct), the lease asks for ${l.nodes}`);
      }
      for (const n of distinct) {
        if (!capacity.has(n)) {
          out.push(`${where}: node ${n} is not in the header`);
          continue;
        }
        if (s.end > s.start) {
          let list = holds.get(n);
          if (!list) holds.set(n, (list = []));
          list.push({ start: s.start, end: s.end, cpu: l.cpu, mem: l.memoryMiB, bw: l.bandwidthMbps ?? 0, lease: id });
        }
      }
    }

    // The lease's segments in time order: one VM does one thing at a time.
    const ordered = [...segs].sort((a, b) => a.start - b.start || a.end - b.end);
    for (let k = 1; k < ordered.length; k++) {
      const a = ordered[k - 1];
      const b = ordered[k];
      if (b.start < a.end) out.push(`lease ${id}: ${a.kind} [${a.start}, ${a.end}) and ${b.kind} [${b.start}, ${b.end}) overlap`);
    }
    for (let k = 0; k < ordered.length; k++) {
      const s = ordered[k];
      if (s.kind === 'suspend') {
        const prev = ordered[k - 1];
        if (!prev || prev.kind !== 'run' || prev.end !== s.start || !sameSet(prev.nodes, s.nodes)) {
          out.push(`lease ${id}: suspend [${s.start}, ${s.end}) does not directly follow a run on the same nodes (before it: ${prev ? `${prev.kind} [${prev.start}, ${prev.end})` : 'nothing'})`);
        }
      }
      if (s.kind === 'resume') {
        const next = ordered[k + 1];
        // A cancelled attempt, or a lease withdrawn or failed, may have been cut while it was resuming: its work was lost there.
        const cutShort = (isAttempt || l.outcome === 'cancelled') && next === undefined;
        if (!cutShort && (!next || next.kind !== 'run' || next.start !== s.end || !sameSet(next.nodes, s.nodes))) {
          out.push(`lease ${id}: resume [${s.start}, ${s.end}) is not directly followed by a run on the same nodes (after it: ${next ? `${next.kind} [${next.start}, ${next.end})` : 'nothing'})`);
        }
      }
    }

    if (isAttempt && !opts.finishedByOwner?.has(m[1])) {
      // A record of lost work: an attempt that had already run all of its work lost nothing.
      const ran = ordered.filter((s) => s.kind === 'run').reduce((a, s) => a + (s.end - s.start), 0);
      const want = expectedRunSeconds(l, opts.runtimeOverheadPercent);
      if (ran >= want) out.push(`lease ${id}: a cancelled attempt that had already run its whole ${want} s (ran ${ran} s): no work was lost, yet it is run again`);
    }

    if (l.outcome === 'completed') {
      const runs = ordered.filter((s) => s.kind === 'run');
      const ran = runs.reduce((a, s) => a + (s.end - s.start), 0);
      const want = expectedRunSeconds(l, opts.runtimeOverheadPercent);
      if (ran !== want) out.push(`lease ${id}: ran ${ran} s in ${runs.length} run segments, should run exactly ${want} s`);
      if (l.kind === 'exact') {
        const run = runs[0];
        if (runs.length !== 1) out.push(`lease ${id}: an accepted reservation runs in ${runs.length} run segments, not one`);
        if (!run || run.start !== l.requestedStart) out.push(`lease ${id}: reservation for ${l.requestedStart} starts running at ${run ? run.start : 'never'}`);
        else if (runs.length === 1 && run.end - run.start !== want) out.push(`lease ${id}: reservation runs [${run.start}, ${run.end}), not ${want} s`);
      }
      if (l.deadline !== undefined && ordered.length > 0 && ordered[ordered.length - 1].end > l.deadline) {
        out.push(`lease ${id}: ends at ${ordered[ordered.length - 1].end}, after its deadline ${l.deadline}`);
      }
    }
  }

  for (const [base, ks] of attemptsOf) {
    if (!mainIds.has(base)) out.push(`lease ${base}: attempt records but no line of its own`);
    const sorted = [...ks].sort((a, b) => a - b);
    if (!sorted.every((k, i) => k === i + 1)) out.push(`lease ${base}: attempt records numbered ${ks.join(', ')}, not 1..${ks.length}`);
  }

  // Capacity: at every instant, per node, by a sweep with ends before starts at equal times.
  for (const [node, list] of holds) {
    const cap = capacity.get(node)!;
    const events: Array<{ t: number; d: number; cpu: number; mem: number; bw: number; lease: string }> = [];
    for (const h of list) {
      events.push({ t: h.start, d: 1, cpu: h.cpu, mem: h.mem, bw: h.bw, lease: h.lease });
      events.push({ t: h.end, d: -1, cpu: h.cpu, mem: h.mem, bw: h.bw, lease: h.lease });
    }
    events.sort((a, b) => a.t - b.t || a.d - b.d);
    let cpu = 0;
    let mem = 0;
    let bw = 0;
    let reportedBw = 0;
    const live = new Map<string, number>();
    let reported = 0;
    for (const e of events) {
      cpu += e.d * e.cpu;
      mem += e.d * e.mem;
      bw += e.d * e.bw;
      live.set(e.lease, (live.get(e.lease) ?? 0) + e.d);
      if (e.d > 0 && cap.bandwidthMbps !== undefined && bw > cap.bandwidthMbps + EPS && reportedBw++ < 3) {
        out.push(`node ${node}: over its bandwidth at t=${e.t}: ${bw}/${cap.bandwidthMbps} Mbit/s (leases ${[...live].filter(([, c]) => c > 0).map(([id]) => id).join(', ')})`);
      }
      if (e.d > 0 && (cpu > cap.cpu + EPS || mem > cap.memoryMiB + EPS) && reported++ < 3) {
        const who = [...live].filter(([, c]) => c > 0).map(([id]) => id);
        out.push(`node ${node}: over capacity at t=${e.t}: cpu ${cpu}/${cap.cpu}, memory ${mem}/${cap.memoryMiB} MiB (leases ${who.join(', ')})`);
      }
    }
  }
  return out;
}

function sameSet(a: readonly string[], b: readonly string[]): boolean {
  if (a.length !== b.length) return false;
  const s = new Set(a);
  return b.every((x) => s.has(x));
}
