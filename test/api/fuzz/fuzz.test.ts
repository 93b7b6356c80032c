// The API fuzzed from its own OpenAPI document (issue 14): every route of the document, by every
// role (no token, a bad one, alice, bob, carol in lab with alice, admin), with valid bodies from
// its schemas and mutated ones, between valid leases of every kind and a clock that moves on.
// Never a 5xx, every refusal in the API's error format, a refused request changes nothing in the
// store (see DIGESTS), the service
// never stops (a normal create and /v1/health work at the end), and the schedule it exports
// passes the shared checker. The seed is printed: VWS_FUZZ_SEED=<seed> replays a run.
//
// GET /v1/events is left to socket.test.ts: a stream that stays open has no end for inject() to wait for.

import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import fc from 'fast-check';
import { validateSchedule } from '../../support/validate-schedule.ts';
import { apiWorld, lease, type StoreKind } from '../api-world.ts';
import { operationsOf, stepArb } from './request-generator.ts';
import { FuzzRunner } from './runner.ts';
import { Tally } from './tally.ts';

/** Routes not fuzzed here, each with why. */
const ELSEWHERE: Record<string, string> = { 'GET /v1/events': 'an open stream: socket.test.ts opens and closes it' };

/**
 * Which requests have the whole store digested around them. A SQLite digest reads every row (its
 * cost grows with the store), so all of the first 1,000 requests and one in ten after; SQLite's
 * commit counter is read around every refusal besides. PostgreSQL hashes rows itself, so more.
 */
const DIGESTS = { sqlite: { first: 1000, every: 10 }, postgres: { first: 2000, every: 2 } } as const;

const seed = Number(process.env.VWS_FUZZ_SEED ?? Date.now() % 2 ** 31);

async function fuzz(t: test.TestContext, kind: StoreKind, requests: number, burst = false): Promise<void> {
  // The context broker wired as `vws serve` wires it: its routes are fuzzed with the rest.
  const w = await apiWorld(4, undefined, kind, { contexts: true, burst });
  try {
    const doc = (await w.call(w.tokens.admin, 'GET', '/v1/openapi.json')).body;
    const ops = operationsOf(doc).filter((op) => !(`${op.method} ${op.path}` in ELSEWHERE));
    const tally = new Tally(seed, kind);
    // The two back-ends' run is a fifth as long: digested as often as PostgreSQL's.
    const runner = new FuzzRunner(w, tally, burst ? DIGESTS.postgres : DIGESTS[kind]);
    await runner.init();
    await runner.warmUp();
    t.diagnostic(`seed ${seed} (replay: VWS_FUZZ_SEED=${seed})`);
    // About nine steps in ten are requests; the rest move the clock.
    const steps = stepArb(ops, { components: doc.components.schemas });
    await fc.assert(fc.asyncProperty(steps, (step) => runner.step(step)), { seed, numRuns: Math.ceil(requests * 1.06), endOnFailure: true }).catch((e: Error) => {
      // The step's own error says what was sent and what came back; fast-check's, which step it was.
      // Cut short: a counterexample may hold a body of megabytes.
      throw new Error(`${((e.cause as Error | undefined)?.message ?? '').slice(0, 3000)}\n${e.message.slice(0, 3000)}`);
    });
    const figures = tally.figures;
    const file = join(tmpdir(), `vws-fuzz-${kind}${burst ? "-burst" : ""}-${seed}.json`);
    writeFileSync(file, JSON.stringify(figures, null, 2));
    for (const line of [...tally.summary().split('\n'), `figures: ${file}`]) t.diagnostic(line);

    assert.ok(figures.requests >= requests, `only ${figures.requests} requests`);
    const missed = ops.map((op) => `${op.method} ${op.path}`).filter((r) => !(r in figures.routes));
    assert.deepEqual(missed, [], 'every route of the document was called');
    // Thousands of refusals had the whole store digested around them (about two in three sampled requests are refused).
    assert.ok(figures.refusalsDigested >= Math.min(1500, figures.refusals / 2), `the store was digested around only ${figures.refusalsDigested} of ${figures.refusals} refusals`);
    if (kind === 'sqlite') assert.equal(figures.refusalsCommitsWatched, figures.refusals, 'the commit counter was read around every refusal');
    assert.equal(Object.keys(figures.roles).length, 6, JSON.stringify(figures.roles));
    // The valid flows (once on the fresh pool, then at random) reached the routes that random requests only get refused on.
    const flowRoutes = ['POST /v1/leases/{id}/commit', 'PUT /v1/images/{name}/content', 'GET /v1/images/{name}/content', 'POST /v1/images/{name}/statements', 'POST /v1/leases/{id}/migrate'];
    assert.deepEqual(flowRoutes.filter((r) => !(r in figures.routesAccepted)), [], 'each flow route answered 2xx at least once');

    if (burst) {
      const onCloud = (await w.store.listLeases({ limit: 1_000_000 })).filter((l) => l.request.backend === 'cloud');
      assert.ok(onCloud.length > 0, 'leases burst to the second back-end');
      assert.deepEqual([...new Set(onCloud.map((l) => l.owner))], ['alice'], 'only alice has an account there');
    }
    // The service still serves: a normal create, health, and a schedule the shared checker accepts.
    const made = await w.call(w.tokens.bob, 'POST', '/v1/leases', lease({ duration: 600 }));
    assert.equal(made.status, 201, JSON.stringify(made.body));
    assert.deepEqual((await w.call(null, 'GET', '/v1/health')).body.status, 'ok');
    await w.idle();
    const schedule = await w.call(w.tokens.admin, 'GET', '/v1/schedule');
    assert.equal(schedule.status, 200, 'the service has not stopped: its schedule is exported');
    const checked = validateSchedule(schedule.body);
    assert.equal(checked.status, 0, checked.output);
  } finally {
    await w.close();
  }
}

test('20,000 fuzzed requests on SQLite: no 5xx, one error format, refusals change nothing, the service keeps serving', (t) => fuzz(t, 'sqlite', Number(process.env.VWS_FUZZ_REQUESTS ?? 20_000)));

test('4,000 fuzzed requests on PostgreSQL: the same', (t) => fuzz(t, 'postgres', Math.ceil(Number(process.env.VWS_FUZZ_REQUESTS ?? 20_000) / 5)));

// A site with a back-end to burst to (--burst-to): requests naming back-ends, quotes over both,
// owners who may and may not burst; the export of both back-ends passes the shared checker.
test('4,000 fuzzed requests on a site of two back-ends: the same', (t) => fuzz(t, 'sqlite', Math.ceil(Number(process.env.VWS_FUZZ_REQUESTS ?? 20_000) / 5), true));
