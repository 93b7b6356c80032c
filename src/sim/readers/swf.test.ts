import assert from 'node:assert/strict';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import fc from 'fast-check';
import { TraceError } from './errors.ts';
import { parseSwf } from './swf.ts';
import { readTraceText } from './text.ts';

const fixtures = fileURLToPath(new URL('../../../test/fixtures/', import.meta.url));
const traces = fileURLToPath(new URL('../../../../shared/traces/', import.meta.url));

function swfLine(fields: readonly (number | string)[]): string {
  return fields.join(' ');
}

function job(overrides: Partial<Record<number, number | string>> = {}): string {
  const fields: (number | string)[] = [1, 0, 0, 100, 8, -1, -1, 1, 600, -1, 1, 1, 1, -1, 1, -1, -1, -1];
  for (const [position, value] of Object.entries(overrides)) fields[Number(position) - 1] = value!;
  return swfLine(fields);
}

function thrownBy(run: () => unknown): TraceError {
  try {
    run();
  } catch (error) {
    assert.ok(error instanceof TraceError, `expected a TraceError, got ${String(error)}`);
    return error;
  }
  assert.fail('expected a TraceError');
}

test('a small SWF file gives the leases and skip counts the conventions say', () => {
  const file = `${fixtures}small.swf`;
  const { leases, skipped, header } = parseSwf(readTraceText(file), file);
  assert.deepEqual(header, { maxNodes: 16, maxProcs: 128 });
  assert.deepEqual(skipped, { cancelledWhileQueued: 2, noRequestedTime: 2, noProcessors: 1 });
  const perNode = { cpu: 1, memoryMiB: 1024, diskMiB: 0 };
  const lease = (id: string, arrival: number, nodes: number, duration: number, realDuration: number) =>
    ({ id, kind: 'best-effort', arrival, requestedStart: null, duration, realDuration, nodes, perNode, preemptible: true });
  assert.deepEqual(leases, [
    lease('1', 0, 2, 600, 100),
    lease('2', 10, 1, 300, 1), // ran 0 s: counts as 1 s
    lease('3', 20, 4, 600, 600), // ran past its requested time: capped
    lease('5', 40, 16, 600, 50), // requested processors not recorded: allocated ones stand in
    lease('10', 80, 3, 60, 30), // tab-separated
  ]);
});

test('perNode can be set, and no consumer can change it for every lease at once', () => {
  const perNode = { cpu: 8, memoryMiB: 4096, diskMiB: 100 };
  const { leases } = parseSwf(`${job()}\n${job({ 1: 2 })}\n`, 'x.swf', { perNode });
  assert.deepEqual(leases.map((lease) => lease.perNode), [perNode, perNode]);
  assert.notEqual(leases[0].perNode, perNode);
  perNode.cpu = 1;
  assert.equal(leases[0].perNode.cpu, 8);
  assert.throws(() => { (leases[0].perNode as { cpu: number }).cpu = 2; }, TypeError);
  assert.equal(leases[1].perNode.cpu, 8);
});

test('leases come sorted by arrival, keeping file order among equal arrivals', () => {
  const text = [job({ 1: 1, 2: 10 }), job({ 1: 2, 2: 5 }), job({ 1: 3, 2: 10 }), job({ 1: 4, 2: 5 })].join('\n');
  assert.deepEqual(parseSwf(text, 'x.swf').leases.map((lease) => lease.id), ['2', '4', '1', '3']);
});

test('CRLF line ends, blank lines and a missing final newline are fine', () => {
  const text = `; MaxNodes: 4\r\n\r\n${job({ 1: 1 })}\r\n   \r\n${job({ 1: 2 })}`;
  const { leases, header } = parseSwf(text, 'x.swf');
  assert.deepEqual(leases.map((lease) => lease.id), ['1', '2']);
  assert.equal(header.maxNodes, 4);
});

test('header numbers are read with any blanks around the colon; other comments and malformed ones are ignored', () => {
  const text = [';MaxProcs :\t128', ';  MaxNodes:16 nodes', '; MaxNodesX: 9', '; MaxJobs: 3', '; MaxNodes: none', job({ 1: 1 })].join('\n');
  assert.deepEqual(parseSwf(text, 'x.swf').header, { maxNodes: 16, maxProcs: 128 });
});

test('a line with 7 fields is an error naming the file and line', () => {
  const file = `${fixtures}seven-fields.swf`;
  const error = thrownBy(() => parseSwf(readTraceText(file), file));
  assert.equal(error.file, file);
  assert.equal(error.line, 4);
  assert.equal(error.message, `${file}:4: expected 18 whitespace-separated SWF fields, found 7; fix or delete the line`);
});

test('a line with 19 fields is an error too', () => {
  const error = thrownBy(() => parseSwf(`${job()} 7\n`, 'x.swf'));
  assert.equal(error.line, 1);
  assert.match(error.message, /^x\.swf:1: expected 18 .* found 19;/);
});

test('a non-numeric field is an error naming the file, line and field', () => {
  const text = `; header\n${job()}\n${job({ 9: '10m' })}\n`;
  const error = thrownBy(() => parseSwf(text, '30days.swf'));
  assert.equal(error.file, '30days.swf');
  assert.equal(error.line, 3);
  assert.match(error.message, /^30days\.swf:3: field 9 \(requested time\) is not a number: "10m"; /);
});

test('malformed numbers are not taken for numbers', () => {
  for (const bad of ['-', '.', '1-2', '1.2.3', '0x10', '1e3', 'NaN']) {
    const error = thrownBy(() => parseSwf(job({ 6: bad }), 'x.swf'));
    assert.match(error.message, new RegExp(`field 6 \\(average CPU time\\) is not a number: "${bad.replace(/\./g, '\\.')}"`));
  }
});

test('a fractional time or count is an error, a fractional CPU time is not', () => {
  assert.equal(parseSwf(job({ 6: '12.75' }), 'x.swf').leases.length, 1);
  const error = thrownBy(() => parseSwf(job({ 4: '10.5' }), 'x.swf'));
  assert.match(error.message, /^x\.swf:1: field 4 \(run time\) must be a whole number, found 10\.5;/);
});

test('a negative submit time is an error', () => {
  const error = thrownBy(() => parseSwf(job({ 2: -5 }), 'x.swf'));
  assert.match(error.message, /^x\.swf:1: submit time \(field 2\) is negative: -5;/);
});

// Whole SWF fields as a generator of valid lines sees them: -1 marks "unknown".
const swfJob = fc.record({
  job: fc.integer({ min: 1, max: 10_000_000 }),
  submit: fc.integer({ min: 0, max: 100_000_000 }),
  wait: fc.integer({ min: -1, max: 1_000_000 }),
  run: fc.oneof(fc.constant(-1), fc.constant(0), fc.integer({ min: 1, max: 1_000_000 })),
  allocatedProcs: fc.oneof(fc.constant(-1), fc.integer({ min: 1, max: 2048 })),
  cpuTime: fc.oneof(fc.constant('-1'), fc.double({ min: 0, max: 1e5, noNaN: true }).map((value) => value.toFixed(2))),
  requestedProcs: fc.oneof(fc.constant(-1), fc.integer({ min: 1, max: 2048 })),
  requestedTime: fc.oneof(fc.constant(-1), fc.constant(0), fc.integer({ min: 1, max: 1_000_000 })),
  status: fc.constantFrom(-1, 0, 1, 5),
  rest: fc.array(fc.integer({ min: -1, max: 1000 }), { minLength: 7, maxLength: 7 }),
  separators: fc.array(fc.constantFrom(' ', '  ', '\t', ' \t '), { minLength: 17, maxLength: 17 }),
  indent: fc.constantFrom('', ' ', '\t'),
});

test('property: each valid SWF line becomes the lease, or the skip, that the conventions say', () => {
  fc.assert(fc.property(swfJob, (j) => {
    const fields = [j.job, j.submit, j.wait, j.run, j.allocatedProcs, j.cpuTime, -1, j.requestedProcs,
      j.requestedTime, -1, j.status, ...j.rest];
    const line = j.indent + fields.map((field, index) => (index === 0 ? '' : j.separators[index - 1]) + field).join('');
    const { leases, skipped } = parseSwf(`${line}\n`, 'gen.swf');

    const expectedNodes = j.requestedProcs !== -1 ? j.requestedProcs : j.allocatedProcs;
    if (j.run < 0) {
      assert.deepEqual(skipped, { cancelledWhileQueued: 1, noRequestedTime: 0, noProcessors: 0 });
    } else if (j.requestedTime <= 0) {
      assert.deepEqual(skipped, { cancelledWhileQueued: 0, noRequestedTime: 1, noProcessors: 0 });
    } else if (expectedNodes === -1) {
      assert.deepEqual(skipped, { cancelledWhileQueued: 0, noRequestedTime: 0, noProcessors: 1 });
    } else {
      assert.deepEqual(skipped, { cancelledWhileQueued: 0, noRequestedTime: 0, noProcessors: 0 });
      assert.equal(leases.length, 1);
      const [lease] = leases;
      assert.equal(lease.id, String(j.job));
      assert.equal(lease.arrival, j.submit);
      assert.equal(lease.nodes, expectedNodes);
      assert.equal(lease.duration, j.requestedTime);
      assert.equal(lease.realDuration, Math.min(j.run === 0 ? 1 : j.run, j.requestedTime));
      assert.equal(lease.kind, 'best-effort');
      assert.equal(lease.preemptible, true);
      return;
    }
    assert.equal(leases.length, 0);
  }), { numRuns: 500 });
});

test('blue/30days.swf: 5,108 leases, 437 cancelled-while-queued jobs skipped, at most 140 nodes', () => {
  const file = `${traces}blue/30days.swf`;
  const { leases, skipped } = parseSwf(readTraceText(file), file);
  assert.equal(leases.length, 5108);
  assert.deepEqual(skipped, { cancelledWhileQueued: 437, noRequestedTime: 0, noProcessors: 0 });
  assert.equal(leases.reduce((most, lease) => Math.max(most, lease.nodes), 0), 140);
  assert.deepEqual(leases[0], {
    id: '13', kind: 'best-effort', arrival: 0, requestedStart: null, duration: 64800, realDuration: 43,
    nodes: 4, perNode: { cpu: 1, memoryMiB: 1024, diskMiB: 0 }, preemptible: true,
  });
  assert.ok(leases.every((lease) => lease.realDuration! >= 1 && lease.realDuration! <= lease.duration));
  assert.equal(new Set(leases.map((lease) => lease.id)).size, leases.length);
});

// How fast it parses is a benchmark's question, not a test's: bench:sim (b) prints the read time
// of this log against a Python loop reading it in the same run.
test('the SDSC Blue archive log (243,306 jobs, gzip) parses: 232,562 leases, the cancelled-while-queued skipped', () => {
  const file = `${traces}archive/SDSC-BLUE-2000-4.2-cln.swf.gz`;
  const { leases, skipped, header } = parseSwf(readTraceText(file), file);
  assert.ok(leases.length > 0);
  // Counted independently with awk: 10,744 jobs have a run time of -1.
  assert.equal(leases.length, 232_562);
  assert.deepEqual(skipped, { cancelledWhileQueued: 10_744, noRequestedTime: 0, noProcessors: 0 });
  assert.deepEqual(header, { maxNodes: 144, maxProcs: 1152 });
});

test('the KTH SP2 archive log parses; the one job with no processor count is skipped', () => {
  const file = `${traces}archive/KTH-SP2-1996-2.1-cln.swf.gz`;
  const { leases, skipped, header } = parseSwf(readTraceText(file), file);
  assert.equal(leases.length, 28_475);
  assert.deepEqual(skipped, { cancelledWhileQueued: 0, noRequestedTime: 0, noProcessors: 1 });
  assert.deepEqual(header, { maxNodes: 100, maxProcs: 100 });
});
