// The independent Python checker (shared/tools/validate-schedule) accepts our exports, and
// rejects a hand-made over-committed one (so that its "OK" means something here).

import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { validateSchedule } from '../support/validate-schedule.ts';
import './support/setup.ts';
import { describeScenario, scenarioArb } from './support/generators.ts';
import { runScenario, violationsOf } from './support/run.ts';

function validate(lines: readonly string[], overheadPercent: number): { status: number | null; output: string } {
  return validateSchedule(`${lines.join('\n')}\n`, ['--cpu', '1', '--mem', '1024', '--runtime-overhead', String(overheadPercent)]);
}

test('validate-schedule accepts the exports of generated runs (exit code 0)', () => {
  fc.assert(
    fc.property(scenarioArb({ stream: { minLeases: 10 } }), (s) => {
      const run = runScenario(s);
      const { status, output } = validate(run.lines, s.config.runtimeOverheadPercent);
      const ours = violationsOf(s, run);
      assert.equal(status, 0, `validate-schedule said:\n${output}\nour checker said: ${JSON.stringify(ours)}\nscenario ${describeScenario(s)}`);
    }),
    // No shrinking: each step would start python again; the contract property shrinks the same scenarios.
    { numRuns: 5, endOnFailure: true },
  );
});

test('validate-schedule rejects an over-committed export (exit code 1)', () => {
  const header = JSON.stringify({ format: 'vws.schedule/v1', nodes: [{ id: 'n1', cpu: 1, memoryMiB: 1024 }] });
  const lease = (id: string, start: number) => JSON.stringify({
    id, kind: 'best-effort', arrival: 0, requestedStart: null, duration: 100, realDuration: 100, nodes: 1, cpu: 1, memoryMiB: 1024,
    outcome: 'completed', segments: [{ start, end: start + 100, nodes: ['n1'], kind: 'run' }],
  });
  assert.equal(validate([header, lease('a', 0), lease('b', 100)], 0).status, 0);
  const { status, output } = validate([header, lease('a', 0), lease('b', 50)], 0);
  assert.equal(status, 1, output);
  assert.match(output, /over capacity/);
});
