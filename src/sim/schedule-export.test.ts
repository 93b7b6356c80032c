import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { newLeaseRecord, type LeaseRecord } from '../core/lease-record.ts';
import type { Segment } from '../core/segment.ts';
import type { LeaseRequest, NodeSpec, SegmentKind } from '../core/types.ts';
import { exportSchedule, scheduleHeader, scheduleLines, writeSchedule } from './schedule-export.ts';

const scratch = mkdtempSync(join(tmpdir(), 'vws-schedule-export-'));
after(() => rmSync(scratch, { recursive: true, force: true }));

/** The format as the export was first written: an object per line, through JSON.stringify. */
function expectedLines(leases: readonly LeaseRecord[], nodes: readonly NodeSpec[]): string[] {
  const lines = [scheduleHeader(nodes)];
  const segments = (list: readonly Segment[]) => list.filter((s) => s.end > s.start)
    .map((s) => ({ start: s.start, end: s.end, nodes: s.nodes.map((i) => nodes[i].id), kind: s.kind }));
  for (const l of leases) {
    if (l.state === 'expanded') continue;
    const r = l.req;
    const common = {
      kind: r.kind, arrival: r.arrival, requestedStart: r.requestedStart, duration: r.duration,
      realDuration: r.realDuration ?? l.realDuration ?? r.duration, nodes: r.nodes, cpu: r.perNode.cpu, memoryMiB: r.perNode.memoryMiB,
    };
    const deadline = r.deadline !== undefined ? { deadline: r.deadline } : {};
    l.lost.forEach((a, k) => lines.push(JSON.stringify({ id: `${r.id}/attempt-${k + 1}`, ...common, ...deadline, outcome: 'cancelled', requeued: true, segments: segments(a.segments) })));
    const outcome = l.state === 'completed' || l.state === 'rejected' || l.state === 'cancelled' ? l.state : 'pending';
    lines.push(JSON.stringify({ id: r.id, ...common, ...deadline, outcome, ...(l.rejectReason ? { reason: l.rejectReason } : {}), segments: segments(l.history) }));
  }
  return lines;
}

const NODES: NodeSpec[] = ['n0', 'n1', 'n2', 'nœud-3', 'n"4', 'n5'].map((id) => ({ id, cpu: 2, memoryMiB: 2048, diskMiB: 0 }));
const perNode = Object.freeze({ cpu: 1, memoryMiB: 1024, diskMiB: 0 });
let seq = 0;
const segment = (start: number, end: number, nodes: readonly number[], kind: SegmentKind = 'run'): Segment =>
  ({ seq: seq++, leaseId: 'x', kind, start, end, nodes, cpu: 1, memoryMiB: 1024, bandwidthMbps: 0, active: false, removed: false });
const lease = (req: Partial<LeaseRequest> & { id: string }, change: Partial<LeaseRecord> = {}): LeaseRecord =>
  Object.assign(newLeaseRecord({ kind: 'best-effort', arrival: 0, requestedStart: null, duration: 60, nodes: 1, perNode, preemptible: true, ...req }, seq++, 60), change);

const shared = [0, 1, 2];
const LEASES: LeaseRecord[] = [
  lease({ id: '1', realDuration: 30 }, { state: 'completed', history: [segment(0, 30, shared)] }),
  lease({ id: '2', nodes: 3 }, { state: 'completed', history: [segment(5, 5, shared, 'boot'), segment(5, 50, shared), segment(50, 61, [0, 2, 3, 5], 'suspend'), segment(70, 81, [5, 4, 3], 'resume'), segment(81, 99, [5, 4, 3])] }),
  lease({ id: 'réservation "3"', kind: 'exact', requestedStart: 100, perNode: { cpu: 0.5, memoryMiB: 1536.25, diskMiB: 0 } }, { state: 'completed', history: [segment(100, 160, [4])] }),
  lease({ id: '4', kind: 'deadline', deadline: 500 }, { state: 'rejected', rejectReason: 'too-late' }),
  lease({ id: '5' }, { state: 'completed', lost: [{ segments: [segment(0, 10, [1])] }, { segments: [segment(20, 25, [2])] }], history: [segment(30, 90, [1])] }),
  lease({ id: '6', kind: 'periodic' }, { state: 'expanded' }),
  lease({ id: '7', arrival: 2 ** 31 + 0.5, duration: 1e21 }, { state: 'queued', history: [segment(10, Infinity, [0, 1, 2, 3, 4, 5])] }),
  // Not the request's declared shape (a member JSON.stringify leaves out): still written as it would be.
  lease({ id: '8', perNode: { cpu: undefined as unknown as number, memoryMiB: 64, diskMiB: 0 } }, { state: 'cancelled' }),
  lease({ id: '9', kind: 'immediate', arrival: -0 }, { state: 'active', history: [segment(3, 4, [2, 3, 4, 0, 1], 'transfer')] }),
  // Stopped early in a live service: how long it really ran is the record's, not the request's.
  lease({ id: '10' }, { state: 'completed', realDuration: 20, history: [segment(0, 20, [1])] }),
];

test('scheduleLines and writeSchedule write what JSON.stringify of each line\'s object writes', () => {
  const expected = expectedLines(LEASES, NODES);
  assert.deepEqual([...scheduleLines(LEASES, NODES)], expected);
  const file = join(scratch, 'sub', 'schedule.jsonl');
  writeSchedule(file, LEASES, NODES);
  assert.equal(readFileSync(file, 'utf8'), `${expected.join('\n')}\n`);
});

test('an export bigger than the writing buffer comes out whole, written at once or piece by piece in the background', async () => {
  // About 3 MB: pieces of 1 MiB, more of them than exportSchedule holds in flight.
  const many = Array.from({ length: 20_000 }, (_, i) => lease({ id: `${i}`, arrival: i }, { state: 'completed', history: [segment(i, i + 100, i % 2 ? shared : [5, 3, 1])] }));
  const expected = `${expectedLines(many, NODES).join('\n')}\n`;
  assert.ok(expected.length > 3 << 20, `only ${expected.length} bytes`);
  const file = join(scratch, 'many.jsonl');
  writeSchedule(file, many, NODES);
  assert.equal(readFileSync(file, 'utf8'), expected);
  const background = join(scratch, 'sub', 'many-background.jsonl');
  await exportSchedule(background, many, NODES);
  assert.equal(readFileSync(background, 'utf8'), expected);
});

test('exportSchedule says why it cannot write', async () => {
  const file = join(scratch, 'a-file');
  writeFileSync(file, '');
  await assert.rejects(exportSchedule(join(file, 'x.jsonl'), LEASES, NODES), /ENOTDIR|EEXIST/);
});
