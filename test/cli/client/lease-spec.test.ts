import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { Args } from '../../../src/cli/client/args.ts';
import { commandLine, KINDS, type LeaseSpec, shellWord, specArgs, specFromArgs } from '../../../src/cli/client/lease-spec.ts';
import { parseLine } from '../../../src/cli/program.ts';
import { UsageError } from '../../../src/cli/usage-error.ts';

const NOW = 1_795_000_000;
/** `vws lease create ...argv` through the real command line parser. */
async function parse(argv: string[]): Promise<LeaseSpec> {
  const { path, values, positionals } = await parseLine(['lease', 'create', ...argv]);
  return specFromArgs(new Args(path, values, positionals), NOW);
}
const base = ['--nodes', '2', '--cpu', '1.5', '--memory', '2048', '--duration', '2h30m'];

/** What the server makes of a spec: the defaults it would fill in, filled in. */
const effective = (s: LeaseSpec): LeaseSpec => ({ ...s, diskMiB: s.diskMiB ?? 0, preemptible: s.preemptible ?? s.kind === 'best-effort' });

/** Specs as the server sends them back in alternatives: every kind with the fields it needs. */
const specs: fc.Arbitrary<LeaseSpec> = fc
  .record({
    kind: fc.constantFrom(...KINDS),
    nodes: fc.integer({ min: 1, max: 100_000 }),
    cpu: fc.oneof(fc.integer({ min: 1, max: 256 }), fc.double({ min: 0.001, max: 256, noNaN: true })),
    memoryMiB: fc.integer({ min: 1, max: 2 ** 30 }),
    diskMiB: fc.option(fc.nat({ max: 2 ** 30 }), { nil: undefined }),
    duration: fc.integer({ min: 1, max: 10 * 365 * 86400 }),
    start: fc.integer({ min: 0, max: 4_000_000_000 }),
    deadline: fc.integer({ min: 0, max: 4_000_000_000 }),
    preemptible: fc.option(fc.boolean(), { nil: undefined }),
    image: fc.option(fc.stringMatching(/^[A-Za-z0-9][A-Za-z0-9._-]{0,20}$/), { nil: undefined }),
    group: fc.option(fc.stringMatching(/^[a-z][a-z0-9._-]{0,10}$/), { nil: undefined }),
    period: fc.integer({ min: 1, max: 365 * 86400 }),
    count: fc.option(fc.integer({ min: 1, max: 1000 }), { nil: undefined }),
    until: fc.integer({ min: 0, max: 4_000_000_000 }),
    acceptPartial: fc.boolean(),
  })
  .map((r) => {
    const s: LeaseSpec = { kind: r.kind, nodes: r.nodes, cpu: r.cpu, memoryMiB: r.memoryMiB, duration: r.duration };
    if (r.diskMiB !== undefined) s.diskMiB = r.diskMiB;
    if (r.preemptible !== undefined) s.preemptible = r.preemptible;
    if (r.image !== undefined) s.image = r.image;
    if (r.group !== undefined) s.group = r.group;
    if (r.kind === 'exact' || r.kind === 'periodic' || r.kind === 'deadline') s.start = r.start;
    if (r.kind === 'deadline') s.deadline = r.deadline;
    if (r.kind === 'periodic') {
      s.recurrence = { period: r.period, ...(r.count !== undefined ? { count: r.count } : { until: r.until }), ...(r.acceptPartial ? { acceptPartial: true } : {}) };
    }
    return s;
  });

test('the options printed for a spec ask for exactly that spec', async () => {
  await fc.assert(fc.asyncProperty(specs, async (spec) => {
    assert.deepEqual(effective(await parse(specArgs(spec))), effective(spec));
  }), { numRuns: 500 });
});

test('a printed command line splits back into the same words', () => {
  fc.assert(fc.property(specs, (spec) => {
    const words = ['vws', 'lease', 'create', ...specArgs(spec)];
    // Image and group names cannot hold spaces or quotes, so the line splits on spaces.
    assert.deepEqual(commandLine(words).split(' '), words);
  }));
  assert.equal(shellWord("it's here"), `'it'\\''s here'`);
});

test('a spec from options, with times and durations in people\'s forms', async () => {
  assert.deepEqual(await parse(['--kind', 'exact', ...base, '--start', '+1h', '--disk', '0', '--no-preemptible', '--image', 'deb', '--group', 'lab']), {
    kind: 'exact', nodes: 2, cpu: 1.5, memoryMiB: 2048, duration: 9000, diskMiB: 0, start: NOW + 3600, preemptible: false, image: 'deb', group: 'lab',
  });
  assert.deepEqual((await parse(['--kind', 'periodic', ...base, '--start', '2026-11-25T14:00:00Z', '--period', '1d', '--until', '+7d', '--accept-partial'])).recurrence, { period: 86400, until: NOW + 7 * 86400, acceptPartial: true });
});

test('without --kind a lease is best-effort', async () => {
  assert.equal((await parse(base)).kind, 'best-effort');
  assert.deepEqual(await parse(base), await parse(['--kind', 'best-effort', ...base]));
});

test('wrong or missing options are usage errors that say what to write', async () => {
  const cases: Array<[string[], RegExp]> = [
    [['--kind', 'reserved', ...base], /--kind <K>' argument 'reserved' is invalid. Allowed choices are best-effort, immediate, exact, urgent, deadline, periodic/],
    [['--nodes', '1', '--cpu', '1', '--memory', '1'], /lease create needs --duration D/],
    [['--kind', 'exact', ...base], /an exact lease needs --start TIME/],
    [['--kind', 'deadline', ...base], /a deadline lease needs --deadline TIME/],
    [['--kind', 'periodic', ...base, '--start', '+1h'], /a periodic lease needs --period D with --count N or --until TIME/],
    [['--kind', 'periodic', ...base, '--start', '+1h', '--period', '1d'], /--period needs --count N or --until TIME/],
    [['--kind', 'best-effort', ...base, '--count', '3'], /--count, --until and --accept-partial go with --period D/],
    [['--kind', 'best-effort', ...base, '--period', '1h', '--count', '3'], /are for periodic leases/],
    [['--kind', 'best-effort', '--nodes', '0', '--cpu', '1', '--memory', '1', '--duration', '1h'], /--nodes must be a whole number >= 1, got '0'/],
    [['--kind', 'best-effort', '--nodes', '1', '--cpu=-1', '--memory', '1', '--duration', '1h'], /--cpu must be a number > 0/],
    [['--kind', 'best-effort', '--nodes', '1', '--cpu', '1', '--memory', '1.5', '--duration', '1h'], /--memory must be a whole number >= 1/],
    [['--kind', 'best-effort', ...base, '--preemptible', '--no-preemptible'], /contradict each other/],
    [['--kind', 'best-effort', ...base, '--colour', 'red'], /unknown option '--colour'/],
    [['--kind', 'best-effort', ...base, 'extra'], /too many arguments for 'create'/],
    [[...base, '--nodes'], /option '--nodes <N>' argument missing/],
  ];
  for (const [argv, message] of cases) {
    await assert.rejects(parse(argv), (e: Error) => e instanceof UsageError && message.test(e.message), `${argv.join(' ')}`);
  }
});

test('specFromArgs checks --kind too, for callers that skip the parser', () => {
  assert.throws(() => specFromArgs(new Args('lease create', { kind: 'reserved', nodes: '1', cpu: '1', memory: '1', duration: '1h' }), NOW),
    /--kind must be one of best-effort, immediate, exact, urgent, deadline, periodic; got 'reserved'/);
});
