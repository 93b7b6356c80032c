import assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { TraceError } from './errors.ts';
import { parseInjectedArs } from './injected-ars.ts';
import { readTraceText } from './text.ts';

const fixtures = fileURLToPath(new URL('../../../test/fixtures/', import.meta.url));
const injected = fileURLToPath(new URL('../../../../shared/traces/blue/injected-30days/', import.meta.url));

const GOOD = "0 0 3948 3948 4 1 1024 0 'NONE.img' 600";

function errorFrom(text: string, file = 'ars.lwf'): TraceError {
  try {
    parseInjectedArs(text, file);
  } catch (error) {
    assert.ok(error instanceof TraceError, `expected a TraceError, got ${String(error)}`);
    return error;
  }
  assert.fail('expected a TraceError');
}

test('AR lines become exact, non-preemptible leases in arrival order', () => {
  const file = `${fixtures}ars.lwf`;
  assert.deepEqual(parseInjectedArs(readTraceText(file), file), [
    {
      id: 'ar-1', kind: 'exact', arrival: 0, requestedStart: 0, duration: 3948, realDuration: 3948, nodes: 4,
      perNode: { cpu: 1, memoryMiB: 1024, diskMiB: 0 }, image: { id: 'NONE.img', sizeMiB: 600 }, preemptible: false,
    },
    {
      id: 'ar-4', kind: 'exact', arrival: 50, requestedStart: 7200, duration: 600, realDuration: 600, nodes: 1,
      perNode: { cpu: 1, memoryMiB: 512, diskMiB: 0 }, image: { id: 'plain.img', sizeMiB: 10 }, preemptible: false,
    },
    {
      id: 'ar-2', kind: 'exact', arrival: 100, requestedStart: 86500, duration: 3600, realDuration: 1800, nodes: 2,
      perNode: { cpu: 0.5, memoryMiB: 2048, diskMiB: 100 }, image: { id: 'ubuntu 22.04.img', sizeMiB: 4096 },
      preemptible: false,
    },
  ]);
});

test('a start before the arrival is an error naming the file and line', () => {
  const error = errorFrom(`${GOOD}\n\n100 99 3600 3600 1 1 1024 0 'NONE.img' 600\n`);
  assert.equal(error.file, 'ars.lwf');
  assert.equal(error.line, 3);
  assert.match(error.message, /^ars\.lwf:3: start 99 is before arrival 100; .*allowStartBeforeArrival/);
});

test('allowStartBeforeArrival keeps such an AR as written', () => {
  const [lease] = parseInjectedArs("0 -1769 3190 3190 3 1 1024 0 'NONE.img' 600", 'x', { allowStartBeforeArrival: true });
  assert.equal(lease.requestedStart, -1769);
  assert.equal(lease.arrival, 0);
});

test('each malformed line is an error on its own line', () => {
  const cases: [string, RegExp][] = [
    ["0 0 3948 3948 4 1 1024 'NONE.img' 600", /expected 10 whitespace-separated AR fields, found 9; each line is: arrival start/],
    ["0 0 3948 3948 4 1 1024 0 'NONE.img' 600 7", /expected 10 whitespace-separated AR fields, found 11/],
    ["0 0 1h 3948 4 1 1024 0 'NONE.img' 600", /duration must be a whole number, found "1h"/],
    ["0 0 3948.5 3948 4 1 1024 0 'NONE.img' 600", /duration must be a whole number, found "3948\.5"/],
    ["0 0 3948 3948 4 one 1024 0 'NONE.img' 600", /cpu must be a number, found "one"/],
    ["0 0 0 3948 4 1 1024 0 'NONE.img' 600", /duration must be positive, found 0/],
    ["0 0 3948 0 4 1 1024 0 'NONE.img' 600", /realduration must be positive, found 0/],
    ["0 0 3948 3948 0 1 1024 0 'NONE.img' 600", /numnodes must be at least 1, found 0/],
    ["0 0 3948 3948 4 0 1024 0 'NONE.img' 600", /cpu must be positive/],
    ["0 0 3948 3948 4 1 -1 0 'NONE.img' 600", /mem, disk and imagesize cannot be negative/],
    ["-5 0 3948 3948 4 1 1024 0 'NONE.img' 600", /arrival is negative/],
    ["0 0 3948 3948 4 1 1024 0 'NONE.img 600", /the image name opens a quote that is never closed/],
    ["0 0 3948 3948 4 1 1024 0 '' 600", /the image name is empty/],
  ];
  for (const [line, expected] of cases) {
    const error = errorFrom(`${GOOD}\n${line}\n${GOOD}\n`);
    assert.equal(error.line, 2, line);
    assert.match(error.message, new RegExp(`^ars\\.lwf:2: ${expected.source}`), line);
  }
});

test('every injected 30-day workload parses when ARs that start before they arrive are kept', () => {
  const files = readdirSync(injected).filter((name) => name.endsWith('.lwf'));
  assert.equal(files.length, 72);
  let total = 0;
  for (const name of files) {
    const leases = parseInjectedArs(readTraceText(injected + name), name, { allowStartBeforeArrival: true });
    assert.ok(leases.length > 0, name);
    assert.ok(leases.every((lease) => lease.kind === 'exact' && !lease.preemptible && lease.image?.id === 'NONE.img'), name);
    total += leases.length;
  }
  // Counted independently: `cat *.lwf | wc -l`.
  assert.equal(total, 28_198);
});

test('two injected workloads hold ARs that start before time 0, which strict reading reports', () => {
  const failures: string[] = [];
  for (const name of readdirSync(injected).filter((file) => file.endsWith('.lwf'))) {
    try {
      parseInjectedArs(readTraceText(injected + name), name);
    } catch (error) {
      assert.ok(error instanceof TraceError);
      failures.push(error.message.split(';')[0]);
    }
  }
  assert.deepEqual(failures, [
    'work_25-dur_1h-size_1small.lwf:2: start -1769 is before arrival 0',
    'work_30-dur_1h-size_1small.lwf:2: start -1602 is before arrival 0',
  ]);
});
