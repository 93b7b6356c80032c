// The independent Python checker (shared/tools/validate-schedule) accepts our exports, and
// rejects a hand-made over-committed one (so that its "OK" means something here).

import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import fc from 'fast-check';
import './support/setup.ts';
import { describeScenario, scenarioArb } from './support/generators.ts';
import { runScenario, violationsOf } from './support/run.ts';

const VALIDATOR = fileURLToPath(new URL('../../../shared/tools/validate-schedule', import.meta.url));

function validate(lines: readonly string[], overheadPercent: number): { status: number | null; output: string } {
  const dir = mkdtempSync(join(tmpdir(), 'vws-schedule-'));
  try {
    const file = join(dir, 'schedule.jsonl');
    writeFileSync(file, `${lines.join('\n')}\n`);
    const r = spawnSync('python3', [VALIDATOR, file, '--cpu', '1', '--mem', '1024', '--runtime-overhead', String(overheadPercent)], { encoding: 'utf8' });
    if (r.error) throw r.error;
    return { status: r.status, output: `${r.stdout}${r.stderr}` };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
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
