import { closeSync, mkdirSync, openSync, writeSync } from 'node:fs';
import { open } from 'node:fs/promises';
import { dirname } from 'node:path';
import type { LeaseRecord, LostAttempt } from '../core/lease-record.ts';
import type { Segment } from '../core/segment.ts';
import type { LeaseRequest, NodeSpec, Outcome, Resources } from '../core/types.ts';
import { JsonBytes, NUM_ROOM, putBytes, putNum } from './json-bytes.ts';

export const SCHEDULE_FORMAT = 'vws.schedule/v1';

export function scheduleHeader(nodes: readonly NodeSpec[]): string {
  return JSON.stringify({ format: SCHEDULE_FORMAT, nodes: nodes.map((n) => ({ id: n.id, cpu: n.cpu, memoryMiB: n.memoryMiB, ...(n.bandwidthMbps !== undefined ? { bandwidthMbps: n.bandwidthMbps } : {}) })) });
}

/** A lease still queued, held, planned or running has no outcome yet: a live export says so rather than guess one. */
/**
 * The trace's real duration in a simulation; in a live service, how long a lease that ended early
 * (stopped by its owner, its VM exiting) really ran; else the duration asked for.
 */
function realDurationOf(lease: LeaseRecord): number {
  return lease.req.realDuration ?? lease.realDuration ?? lease.req.duration;
}

/**
 * A lost attempt's: that of the request it ran under where its owner changed the lease since (a
 * change of duration after it was lost says nothing of what it was to run), else the lease's.
 */
function attemptRealDuration(a: LostAttempt, lease: LeaseRecord): number {
  return a.req ? a.req.realDuration ?? a.req.duration : realDurationOf(lease);
}

function outcomeOf(lease: LeaseRecord): Outcome {
  if (lease.state === 'completed') return 'completed';
  if (lease.state === 'rejected') return 'rejected';
  if (lease.state === 'cancelled') return 'cancelled';
  return 'pending';
}

/** The UTF-8 bytes of a literal of the format. */
const lit = (text: string): Uint8Array => new Uint8Array(Buffer.from(text));

const ID = lit('{"id":');
const REQUESTED_START = lit(',"requestedStart":');
const NO_REQUESTED_START = lit(',"requestedStart":null');
const DURATION = lit(',"duration":');
const REAL_DURATION = lit(',"realDuration":');
const NODES = lit(',"nodes":');
const CPU = lit(',"cpu":');
const MEMORY = lit(',"memoryMiB":');
const DEADLINE = lit(',"deadline":');
const REQUEUED = lit(',"outcome":"cancelled","requeued":true');
const OUTCOME: Record<Outcome, Uint8Array> = {
  completed: lit(',"outcome":"completed"'), rejected: lit(',"outcome":"rejected"'), cancelled: lit(',"outcome":"cancelled"'), pending: lit(',"outcome":"pending"'),
};
const SEGMENTS = lit(',"segments":[');
const FIRST_START = lit('{"start":');
const START = lit(',{"start":');
const END = lit(',"end":');
const SEGMENT_NODES = lit(',"nodes":[');
const LINE_END = lit(']}\n');
/** Room for the literals and numbers of fields(), but for the two made once (kind, perNode); and of a segment but for its kind and node ids. */
const FIELDS_ROOM = 7 * 32 + 6 * NUM_ROOM;
const SEGMENT_ROOM = 4 * 32 + 2 * NUM_ROOM;

/**
 * Writes leases as JSON lines, byte for byte as JSON.stringify would write them: on the whole SDSC
 * log (232,562 leases, 150 MB) building an object per line and stringifying it took most of the
 * export's time. Node lists are copied from the JSON of the whole pool's list, kept in the buffer's
 * dictionary: EASY takes the first free nodes by index, so a list is a few runs of consecutive
 * nodes (10.3 million ids in 540,000 runs in a whole log's segments).
 */
class LineWriter {
  readonly out: JsonBytes;
  private readonly ids: readonly string[];
  /** Where node i's JSON starts in the dictionary; at [n], one past the end (as if a comma followed). */
  private readonly offsets: Int32Array;
  /** Room for one node's id in a list, its comma included. */
  private readonly idRoom: number;
  /** Literals that end with a value that recurs (a kind), by that value. */
  private readonly kindThenArrival = new Map<string, Uint8Array>();
  private readonly segmentKindThenEnd = new Map<string, Uint8Array>();
  private lastPerNode: Resources | null = null;
  private lastPerNodeJson: Uint8Array = new Uint8Array(0);

  constructor(nodes: readonly NodeSpec[], size: number, flush: ((bytes: Uint8Array) => void) | null) {
    this.ids = nodes.map((n) => n.id);
    const json = this.ids.map((id) => JSON.stringify(id));
    this.offsets = new Int32Array(json.length + 1);
    for (let i = 0; i < json.length; i++) this.offsets[i + 1] = this.offsets[i] + Buffer.byteLength(json[i]) + 1;
    this.idRoom = json.reduce((most, id) => Math.max(most, Buffer.byteLength(id) + 1), 0);
    this.out = new JsonBytes(size, flush, lit(json.join(',')));
  }

  /** The lease's lines, each newline-terminated (a periodic lease has none: its occurrences are leases of their own). */
  lease(l: LeaseRecord): void {
    if (l.state === 'expanded') return;
    const r = l.req;
    const out = this.out;
    const real = realDurationOf(l);
    if (r.roles !== undefined) {
      out.text(clusterLeaseText(l, this.ids));
      return;
    }
    if (!hasExpectedShape(r, real)) {
      out.text(slowLeaseText(l, this.ids));
      return;
    }
    for (let k = 0; k < l.lost.length; k++) {
      out.lit(ID);
      out.str(`${r.id}/attempt-${k + 1}`);
      this.fields(l.lost[k].req ?? r, attemptRealDuration(l.lost[k], l));
      out.lit(REQUEUED);
      this.segments(l.lost[k].segments);
    }
    out.lit(ID);
    out.str(r.id);
    this.fields(r, real);
    out.lit(OUTCOME[outcomeOf(l)]);
    if (l.rejectReason) out.text(`,"reason":${JSON.stringify(l.rejectReason)}`);
    this.segments(l.history);
  }

  /** The members from "kind" to "deadline", each after a comma. */
  private fields(r: LeaseRequest, realDuration: number): void {
    if (r.perNode !== this.lastPerNode) {
      // A trace's leases share one perNode (sim/readers): its members are written once.
      this.lastPerNode = r.perNode;
      const perNode = new JsonBytes(64);
      perNode.lit(CPU);
      perNode.num(r.perNode.cpu);
      perNode.lit(MEMORY);
      perNode.num(r.perNode.memoryMiB);
      this.lastPerNodeJson = perNode.bytes();
    }
    const kind = cached(this.kindThenArrival, r.kind, (json) => `,"kind":${json},"arrival":`);
    const out = this.out;
    const b = out.reserve(FIELDS_ROOM + kind.length + this.lastPerNodeJson.length);
    let p = putBytes(b, out.pos, kind);
    p = putNum(b, p, r.arrival);
    if (r.requestedStart === null) p = putBytes(b, p, NO_REQUESTED_START);
    else p = putNum(b, putBytes(b, p, REQUESTED_START), r.requestedStart);
    p = putNum(b, putBytes(b, p, DURATION), r.duration);
    p = putNum(b, putBytes(b, p, REAL_DURATION), realDuration);
    p = putNum(b, putBytes(b, p, NODES), r.nodes);
    p = putBytes(b, p, this.lastPerNodeJson);
    if (r.deadline !== undefined) p = putNum(b, putBytes(b, p, DEADLINE), r.deadline);
    out.pos = p;
  }

  /** "segments": [{start, end, nodes: [ids], kind}] of the segments that last a while, and the line's end. */
  private segments(segments: readonly Segment[]): void {
    const out = this.out;
    out.lit(SEGMENTS);
    let first = true;
    for (const s of segments) {
      if (!(s.end > s.start)) continue;
      const nodes = s.nodes;
      const kind = cached(this.segmentKindThenEnd, s.kind, (json) => `],"kind":${json}}`);
      const b = out.reserve(SEGMENT_ROOM + kind.length + nodes.length * this.idRoom);
      let p = putBytes(b, out.pos, first ? FIRST_START : START);
      first = false;
      p = putNum(b, p, s.start);
      p = putNum(b, putBytes(b, p, END), s.end);
      p = this.putNodes(b, putBytes(b, p, SEGMENT_NODES), nodes);
      out.pos = putBytes(b, p, kind);
    }
    out.lit(LINE_END);
  }

  /** The ids of `nodes`, comma-separated, at `b[p]`, copied from the dictionary a run of consecutive nodes at a time. */
  private putNodes(b: Uint8Array, p: number, nodes: readonly number[]): number {
    const offsets = this.offsets;
    for (let i = 0; i < nodes.length;) {
      let j = i + 1;
      while (j < nodes.length && nodes[j] === nodes[j - 1] + 1) j++;
      if (i > 0) b[p++] = 0x2c;
      const from = offsets[nodes[i]];
      const to = offsets[nodes[j - 1] + 1] - 1;
      b.copyWithin(p, from, to);
      p += to - from;
      i = j;
    }
    return p;
  }
}

/** The literal made by `make` from the JSON of `value`, made once per value. */
function cached(literals: Map<string, Uint8Array>, value: string, make: (json: string) => string): Uint8Array {
  let bytes = literals.get(value);
  if (bytes === undefined) {
    bytes = lit(make(JSON.stringify(value)));
    literals.set(value, bytes);
  }
  return bytes;
}

/** Whether every member is of the type the request's interface says, so none is one JSON.stringify would write otherwise (or leave out). */
function hasExpectedShape(r: LeaseRequest, realDuration: number): boolean {
  return typeof r.id === 'string' && typeof r.kind === 'string' && typeof r.arrival === 'number' && typeof r.duration === 'number'
    && typeof realDuration === 'number' && typeof r.nodes === 'number' && typeof r.perNode.cpu === 'number' && typeof r.perNode.memoryMiB === 'number'
    && (r.requestedStart === null || typeof r.requestedStart === 'number') && (r.deadline === undefined || typeof r.deadline === 'number')
    && r.perNode.bandwidthMbps === undefined;
}

/** The lines of a lease whose request is not of the expected shape, through JSON.stringify, as they were always written. */
function slowLeaseText(l: LeaseRecord, ids: readonly string[]): string {
  const r = l.req;
  const fieldsOf = (q: LeaseRequest, realDuration: number) => ({
    kind: q.kind, arrival: q.arrival, requestedStart: q.requestedStart, duration: q.duration,
    realDuration, nodes: q.nodes, cpu: q.perNode.cpu, memoryMiB: q.perNode.memoryMiB,
    ...(q.perNode.bandwidthMbps !== undefined ? { bandwidthMbps: q.perNode.bandwidthMbps } : {}),
    ...(q.deadline !== undefined ? { deadline: q.deadline } : {}),
  });
  const common = fieldsOf(r, realDurationOf(l));
  const segments = (list: readonly Segment[]) => list.filter((s) => s.end > s.start)
    .map((s) => ({ start: s.start, end: s.end, nodes: s.nodes.map((i) => ids[i]), kind: s.kind }));
  const reason = l.rejectReason ? { reason: l.rejectReason } : {};
  const lines = l.lost.map((a, k) => ({ id: `${r.id}/attempt-${k + 1}`, ...fieldsOf(a.req ?? r, attemptRealDuration(a, l)), outcome: 'cancelled', requeued: true, segments: segments(a.segments) }));
  lines.push({ id: r.id, ...common, outcome: outcomeOf(l), ...reason, segments: segments(l.history) } as (typeof lines)[number]);
  return lines.map((line) => `${JSON.stringify(line)}\n`).join('');
}

/**
 * A cluster lease's lines: one per role, `LEASE/ROLE`, with that role's count and shape and only
 * its own segments, and `"cluster":"LEASE"` to tie them together; a lost attempt is
 * `LEASE/ROLE/attempt-K` of cluster `LEASE/attempt-K`.
 */
function clusterLeaseText(l: LeaseRecord, ids: readonly string[]): string {
  const r = l.req;
  const reason = l.rejectReason ? { reason: l.rejectReason } : {};
  const segments = (list: readonly Segment[], role: number) => list.filter((s) => s.end > s.start && s.role === role)
    .map((s) => ({ start: s.start, end: s.end, nodes: s.nodes.map((i) => ids[i]), kind: s.kind }));
  // A change keeps a cluster's roles and their order, so an attempt's role k is the lease's.
  const fieldsOf = (q: LeaseRequest, k: number, realDuration: number) => {
    const role = q.roles![k];
    const deadline = q.deadline !== undefined ? { deadline: q.deadline } : {};
    const bw = role.perNode.bandwidthMbps !== undefined ? { bandwidthMbps: role.perNode.bandwidthMbps } : {};
    return { kind: q.kind, arrival: q.arrival, requestedStart: q.requestedStart, duration: q.duration, realDuration, nodes: role.count, cpu: role.perNode.cpu, memoryMiB: role.perNode.memoryMiB, ...bw, ...deadline };
  };
  const lines: string[] = [];
  r.roles!.forEach((role, k) => {
    l.lost.forEach((a, n) => lines.push(JSON.stringify({ id: `${r.id}/${role.name}/attempt-${n + 1}`, cluster: `${r.id}/attempt-${n + 1}`, ...fieldsOf(a.req ?? r, k, attemptRealDuration(a, l)), outcome: 'cancelled', requeued: true, segments: segments(a.segments, k) })));
    lines.push(JSON.stringify({ id: `${r.id}/${role.name}`, cluster: r.id, ...fieldsOf(r, k, realDurationOf(l)), outcome: outcomeOf(l), ...reason, segments: segments(l.history, k) }));
  });
  return lines.map((line) => `${line}\n`).join('');
}

/**
 * One JSON line per lease, in submission order. An attempt that was cancelled after it began
 * (its work lost, the lease queued again) is a line of its own, `ID/attempt-K`, outcome cancelled.
 */
export function* scheduleLines(leases: readonly LeaseRecord[], nodes: readonly NodeSpec[]): Generator<string> {
  yield scheduleHeader(nodes);
  const writer = new LineWriter(nodes, 1 << 16, null);
  const out = writer.out;
  for (const l of leases) {
    out.clear();
    writer.lease(l);
    if (out.length === 0) continue;
    const text = out.toString(1);
    // Lines of lost attempts are rare: splitting the lease's text only then costs nothing on the whole.
    if (l.lost.length === 0 && l.req.roles === undefined) yield text;
    else yield* text.split('\n');
  }
}

/**
 * Writes the export to `path` (its folder made if missing), synchronously and in pieces of 1 MiB:
 * a stream's bookkeeping cost more than the writes themselves.
 */
export function writeSchedule(path: string, leases: readonly LeaseRecord[], nodes: readonly NodeSpec[]): void {
  mkdirSync(dirname(path), { recursive: true });
  const fd = openSync(path, 'w');
  try {
    const writer = new LineWriter(nodes, 1 << 20, (bytes) => {
      for (let at = 0; at < bytes.length;) at += writeSync(fd, bytes, at);
    });
    writer.out.text(`${scheduleHeader(nodes)}\n`);
    for (const l of leases) writer.lease(l);
    writer.out.end();
  } finally {
    closeSync(fd);
  }
}

/** Pieces of the export being written at once by exportSchedule: more would only hold more memory. */
const PIECES_IN_FLIGHT = 2;

/**
 * writeSchedule with each 1 MiB piece written by libuv's threads while the next is made (each at
 * its own offset): on the whole SDSC log (150 MB), the CLI's last work, the writes then overlap
 * the making instead of following it. At most PIECES_IN_FLIGHT pieces are held.
 */
export async function exportSchedule(path: string, leases: readonly LeaseRecord[], nodes: readonly NodeSpec[]): Promise<void> {
  mkdirSync(dirname(path), { recursive: true });
  const file = await open(path, 'w');
  const inFlight: Array<Promise<unknown>> = [];
  try {
    let offset = 0;
    const writer = new LineWriter(nodes, 1 << 20, (bytes) => {
      // A copy: the writer reuses its buffer at once.
      const piece = Buffer.from(bytes);
      inFlight.push(file.write(piece, 0, piece.length, offset));
      offset += piece.length;
    });
    writer.out.text(`${scheduleHeader(nodes)}\n`);
    for (const l of leases) {
      writer.lease(l);
      if (inFlight.length > PIECES_IN_FLIGHT) await inFlight.shift();
    }
    writer.out.end();
    await Promise.all(inFlight.splice(0));
  } finally {
    // A write that failed is reported by the await that met it; the others are let finish first.
    await Promise.allSettled(inFlight);
    await file.close();
  }
}
