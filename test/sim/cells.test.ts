// A pool split into cells (issue 18 item 4): one cell gives exactly the one-pool run; with several,
// every request ends up in exactly one cell, every lease runs on its own cell's nodes only, the
// whole pool's export passes the checkers, and the same input gives the same output; the front
// routes by quotes, refuses what no cell can hold, and the command line refuses bad cell counts.

import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import fc from 'fast-check';
import type { LeaseRequest, NodeSpec } from '../../src/core/types.ts';
import { configWith } from '../../src/core/config.ts';
import { parseSimArgs } from '../../src/cli/sim-command.ts';
import { cellsLeases, cellsMetrics } from '../../src/sim/cell-metrics.ts';
import { type CellsRun, simulateCells } from '../../src/sim/cell-simulation.ts';
import { evenCells, FRONT_POLICIES, type FrontPolicy } from '../../src/sim/cells.ts';
import { cellsScheduleLines } from '../../src/sim/cells-export.ts';
import { computeMetrics } from '../../src/sim/metrics.ts';
import { scheduleLines } from '../../src/sim/schedule-export.ts';
import { simulate } from '../../src/sim/simulator.ts';
import type { ChangeOutcome } from '../../src/sim/workload-changes.ts';
import '../core/support/setup.ts';
import { withChanges } from '../core/support/changes-arb.ts';
import { configArb, describeScenario, type Scenario, scenarioArb } from '../core/support/generators.ts';
import { checkSchedule } from '../core/support/schedule-checker.ts';
import { SMALL_TRACE, simRefusal } from '../support/sim-refusal.ts';
import { validateSchedule } from '../support/validate-schedule.ts';

const frontArb = fc.constantFrom(...FRONT_POLICIES);

/** Sizes of 1..nodes cells adding up to `nodes`, from cut points. */
const sizesArb = (nodes: number): fc.Arbitrary<number[]> => nodes === 1 ? fc.constant([1]) :
  fc.uniqueArray(fc.integer({ min: 1, max: nodes - 1 }), { maxLength: Math.min(nodes - 1, 4) }).map((cuts) => {
    const at = [0, ...cuts.sort((a, b) => a - b), nodes];
    return at.slice(1).map((c, i) => c - at[i]);
  });

const withSizes = fc.tuple(scenarioArb({ pool: { maxNodes: 8 }, stream: { maxLeases: 25 }, config: configArb() }), frontArb)
  .chain(([s, front]) => sizesArb(s.nodes.length).map((sizes) => ({ s, front, sizes })));

function runCells(s: Scenario, sizes: readonly number[], front: FrontPolicy): CellsRun {
  return simulateCells({ requests: s.requests, nodes: s.nodes, config: s.config }, { sizes, front });
}

test('one cell gives exactly the one-pool result: the same export, byte for byte, and the same metrics', () => {
  fc.assert(
    fc.property(scenarioArb({ pool: { maxNodes: 8 }, stream: { maxLeases: 25 }, config: configArb() }), frontArb, (s, front) => {
      const pool = simulate({ requests: s.requests, nodes: s.nodes, config: s.config }).allLeases();
      const run = runCells(s, [s.nodes.length], front);
      assert.deepEqual([...cellsScheduleLines(run, s.nodes)], [...scheduleLines(pool, s.nodes)], `scenario ${describeScenario(s)}`);
      const { cells, ...metrics } = cellsMetrics(run, s.nodes, front, 0);
      assert.deepEqual(metrics, computeMetrics(pool, s.nodes, 0));
      assert.equal(cells!.tooLarge, 0);
    }),
    { numRuns: 300 },
  );
});

test('with owners\' changes too, one cell gives exactly the one-pool run: the export, the metrics, and what became of each change', () => {
  fc.assert(
    fc.property(scenarioArb({ pool: { maxNodes: 8 }, stream: { maxLeases: 20 }, config: configArb() }).chain(withChanges), frontArb, (s, front) => {
      const heard: { pool: ChangeOutcome[]; cell: ChangeOutcome[] } = { pool: [], cell: [] };
      const pool = simulate({ requests: s.requests, nodes: s.nodes, config: s.config, onChange: (o) => heard.pool.push(o) }).allLeases();
      const run = simulateCells({ requests: s.requests, nodes: s.nodes, config: s.config, onChange: (o) => heard.cell.push(o) }, { sizes: [s.nodes.length], front });
      assert.deepEqual([...cellsScheduleLines(run, s.nodes)], [...scheduleLines(pool, s.nodes)], `scenario ${describeScenario(s)}`);
      assert.deepEqual(heard.cell, heard.pool);
      const { cells: _, ...metrics } = cellsMetrics(run, s.nodes, front, 0);
      assert.deepEqual(metrics, computeMetrics(pool, s.nodes, 0));
    }),
    { numRuns: 200 },
  );
});

test('with owners\' changes, several cells make each in the lease\'s own cell: every change is heard once, and the export is sound', () => {
  fc.assert(
    fc.property(withSizes.chain(({ s, front, sizes }) => withChanges(s).map((c) => ({ s: c, front, sizes }))), ({ s, front, sizes }) => {
      const heard: ChangeOutcome[] = [];
      const run = simulateCells({ requests: s.requests, nodes: s.nodes, config: s.config, onChange: (o) => heard.push(o) }, { sizes, front });
      const asked = s.requests.flatMap((r) => (r.changes ?? []).map((c) => `${r.id}@${c.at}`)).sort();
      assert.deepEqual(heard.map((o) => `${o.leaseId}@${o.at}`).sort(), asked, `scenario ${describeScenario(s)}`);
      const lines = [...cellsScheduleLines(run, s.nodes)];
      assert.deepEqual(checkSchedule(lines, { runtimeOverheadPercent: s.config.runtimeOverheadPercent, drained: true }), [], `scenario ${describeScenario(s)}, cells ${sizes}, front ${front}`);
    }),
    { numRuns: 150 },
  );
});

/** Which cell holds each lease id, failing on an id held by two cells. */
function cellOfEachLease(run: CellsRun): Map<string, number> {
  const where = new Map<string, number>();
  for (const c of run.cells) {
    for (const l of c.scheduler.allLeases()) {
      assert.ok(!where.has(l.req.id), `lease ${l.req.id} is in cell ${where.get(l.req.id)! + 1} and in cell ${c.index + 1}`);
      where.set(l.req.id, c.index);
    }
  }
  return where;
}

test('several cells: every request is in exactly one cell, runs on that cell\'s nodes only, and the whole pool\'s export is sound and deterministic', () => {
  fc.assert(
    fc.property(withSizes, ({ s, front, sizes }) => {
      const run = runCells(s, sizes, front);
      const where = cellOfEachLease(run);
      for (const req of s.requests) assert.ok(where.has(req.id), `request ${req.id} is in no cell`);
      for (const c of run.cells) {
        for (const l of c.scheduler.allLeases()) {
          for (const seg of l.history) assert.ok(seg.nodes.every((n) => n >= 0 && n < c.nodes.length), `lease ${l.req.id}: a segment off cell ${c.index + 1}'s nodes`);
        }
      }
      const lines = [...cellsScheduleLines(run, s.nodes)];
      assert.deepEqual(checkSchedule(lines, { runtimeOverheadPercent: s.config.runtimeOverheadPercent, drained: true }), [], `scenario ${describeScenario(s)}, cells ${sizes}, front ${front}`);
      assert.equal(cellsLeases(run).filter((l) => l.state === 'completed').length, cellsMetrics(run, s.nodes, front, 0).completed);
      assert.deepEqual([...cellsScheduleLines(runCells(s, sizes, front), s.nodes)], lines, 'the same input gives the same export');
    }),
    { numRuns: 300 },
  );
});

const perNode = { cpu: 1, memoryMiB: 1024, diskMiB: 0 };
const NODES: NodeSpec[] = Array.from({ length: 8 }, (_, i) => ({ id: `n${i + 1}`, cpu: 1, memoryMiB: 1024, diskMiB: 40_000 }));
const be = (id: string, arrival: number, nodes: number, duration: number): LeaseRequest =>
  ({ id, kind: 'best-effort', arrival, requestedStart: null, duration, realDuration: duration, nodes, perNode, preemptible: true });

test('a lease larger than every cell is refused by the front, naming the cells, and counted; the others run', () => {
  const run = simulateCells({ requests: [be('big', 0, 5, 100), be('small', 0, 4, 100)], nodes: NODES, config: configWith({}) }, { sizes: evenCells(8, 2), front: 'earliest-start' });
  const big = cellsLeases(run).find((l) => l.req.id === 'big')!;
  assert.equal(big.state, 'rejected');
  assert.equal(big.rejectReason, 'exceeds-pool');
  assert.match(big.rejectMessage ?? '', /cells of 4, 4 nodes and no cell has that many/);
  assert.equal(run.tooLarge, 1);
  assert.equal(cellsMetrics(run, NODES, 'earliest-start', 0).rejected, 1);
  assert.equal(cellsLeases(run).find((l) => l.req.id === 'small')!.state, 'completed');
});

test('earliest-start sends a lease to the cell that can start it first; round-robin takes its turn whatever the wait', () => {
  // Cell 1 is full for 1000 s; cell 2 has a long job on half its nodes. A 2-node lease can start at once in cell 2 only.
  const requests = [be('fill1', 0, 4, 1000), be('half2', 1, 2, 5000), be('next', 2, 2, 100)];
  const sim = (front: FrontPolicy): CellsRun => simulateCells({ requests, nodes: NODES, config: configWith({}) }, { sizes: [4, 4], front });
  const quoted = sim('earliest-start');
  const placed = (run: CellsRun, id: string): number => run.cells.find((c) => c.scheduler.lease(id))!.index;
  assert.equal(placed(quoted, 'next'), 1);
  assert.equal(quoted.cells[1].scheduler.lease('next')!.firstStart, 2);
  const rr = sim('round-robin');
  assert.deepEqual(['fill1', 'half2', 'next'].map((id) => placed(rr, id)), [0, 1, 0]);
  assert.equal(rr.cells[0].scheduler.lease('next')!.firstStart, 1000);
});

test('vws sim refuses a bad cell count or cell sizes, saying what to give', () => {
  const trace = SMALL_TRACE;
  assert.equal(simRefusal({ cells: '0' }), "--cells must be a positive whole number of cells to split the pool into, got '0'");
  assert.equal(simRefusal({ cells: '2.5' }), "--cells must be a positive whole number of cells to split the pool into, got '2.5'");
  assert.equal(simRefusal({ cells: '9', nodes: '8' }), "--cells 9 is more than the pool's 8 nodes: each cell needs at least one node; give at most 8 (or more --nodes)");
  assert.match(simRefusal({ 'cell-sizes': '4,x' }), /^--cell-sizes: entry 2 \('x'\) is not a positive whole number of nodes/);
  assert.match(simRefusal({ 'cell-sizes': '4,4', nodes: '10' }), /add up to 8 nodes but --nodes is 10/);
  assert.match(simRefusal({ front: 'least-loaded' }), /^--front routes leases among cells: add --cells K/);
  assert.deepEqual(parseSimArgs({ trace, cells: '3', nodes: '8' }).spec.cells, { sizes: [3, 3, 2], front: 'earliest-start' });
  assert.equal(parseSimArgs({ trace, 'cell-sizes': '5,2' }).spec.pool.nodes, 7);
});

test('the export of a split pool passes the shared checker, with the metrics read back from it', () => {
  const requests = Array.from({ length: 30 }, (_, i) => be(`b${i}`, i * 50, 1 + (i % 3), 400 + 37 * i));
  const run = simulateCells({ requests, nodes: NODES, config: configWith({}) }, { sizes: evenCells(8, 3), front: 'earliest-start' });
  const metrics = cellsMetrics(run, NODES, 'earliest-start', 0);
  assert.deepEqual(metrics.cells!.perCell.map((c) => c.nodes), [3, 3, 2]);
  const dir = mkdtempSync(join(tmpdir(), 'vws-cells-'));
  try {
    writeFileSync(join(dir, 'metrics.json'), JSON.stringify(metrics));
    const { status, output } = validateSchedule(`${[...cellsScheduleLines(run, NODES)].join('\n')}\n`, ['--nodes', '8', '--metrics', join(dir, 'metrics.json')]);
    assert.equal(status, 0, output);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
