// The replay's "as it ran" is the site's own schedule: after random API calls on a live service
// (every kind, holds, cancels, owner actions, migrations, node changes, terms changes, VMs that
// end by themselves, time passing), the log read from the store and replayed up to the clock's
// instant exports what GET /v1/schedule shows, byte for byte; and under the site's own terms, a
// workload with nothing the what-if drops gives the same figures as the site had.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { configWith } from '../../../src/core/config.ts';
import { readSiteLog } from '../../../src/control/replay/read-site-log.ts';
import { whatIf } from '../../../src/control/replay/what-if.ts';
import { type Call, callArb, runCalls } from '../../api/live-replay-calls.ts';
import { restartWorld, sqlitePlace } from '../../api/restart-world.ts';

const BOOT = 30;
const SHUTDOWN = 15;
const config = configWith({ bootSeconds: BOOT, shutdownSeconds: SHUTDOWN });

/** Runs the calls on a live service, then hands its data directory and what it shows to `check`. */
async function afterCalls(calls: readonly Call[], check: (dir: string, now: number, schedule: string) => Promise<void>): Promise<void> {
  let dir = '';
  const w = await restartWorld((d) => {
    dir = d;
    return sqlitePlace(d);
  }, config, 4);
  try {
    await runCalls(w, calls, BOOT + SHUTDOWN, { bootSeconds: BOOT, shutdownSeconds: SHUTDOWN });
    const live = await w.call('admin', 'GET', '/v1/schedule');
    assert.equal(live.status, 200);
    await check(dir, w.clock.now(), live.body as string);
  } finally {
    await w.close();
  }
}

const calls = (arb: fc.Arbitrary<Call>) => fc.array(arb, { minLength: 1, maxLength: Number(process.env.VWS_REPLAY_CALLS ?? 30), size: 'max' });
const RUNS = Number(process.env.VWS_REPLAY_RUNS ?? 30);

test('the log replayed as it ran, up to the clock\'s instant, exports what the live GET /v1/schedule shows', async () => {
  await fc.assert(fc.asyncProperty(calls(callArb), (cs) => afterCalls(cs, async (dir, now, schedule) => {
    const replayed = whatIf(await readSiteLog(dir), null, { config, until: now });
    assert.equal(`${replayed.real.schedule.join('\n')}\n`, schedule);
  })), { numRuns: RUNS, includeErrorInReport: true });
});

/** What the what-if keeps as it was: no owner's suspend or resume, no migration, no change of terms. */
const kept = callArb.filter((c) => !(c.op === 'act' && c.action !== 'stop') && c.op !== 'migrate' && c.op !== 'terms');

test('under the site\'s own terms, a workload with nothing dropped gives the figures the site had', async () => {
  await fc.assert(fc.asyncProperty(calls(kept), (cs) => afterCalls(cs, async (dir) => {
    const r = whatIf(await readSiteLog(dir), null, { config });
    const { wallSeconds: _a, ...real } = r.real.metrics;
    const { wallSeconds: _b, ...other } = r.whatIf.metrics;
    assert.deepEqual(other, real);
  })), { numRuns: RUNS, includeErrorInReport: true });
});
