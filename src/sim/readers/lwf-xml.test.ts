import assert from 'node:assert/strict';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import fc from 'fast-check';
import { TraceError } from './errors.ts';
import { parseLwfTime } from './lwf-time.ts';
import { parseLwfXml } from './lwf-xml.ts';
import { readTraceText } from './text.ts';

const fixtures = fileURLToPath(new URL('../../../test/fixtures/', import.meta.url));
const traces = fileURLToPath(new URL('../../../../shared/traces/', import.meta.url));

const NODES = '<nodes><node-set numnodes="1"><res type="CPU" amount="100"/><res type="Memory" amount="1024"/></node-set></nodes>';

// One lease request whose lines 3.. are `leaseBody`; line 1 is the root, line 2 the request.
function workload(leaseBody: string, leaseAttributes = 'preemptible="true"', arrival = '00:00:00'): string {
  return `<lease-workload><lease-requests>\n<lease-request arrival="${arrival}"><lease ${leaseAttributes}>\n` +
    `${leaseBody}\n</lease></lease-request>\n</lease-requests></lease-workload>\n`;
}

function errorFrom(text: string): TraceError {
  try {
    parseLwfXml(text, 'w.lwf');
  } catch (error) {
    assert.ok(error instanceof TraceError, `expected a TraceError, got ${String(error)}`);
    return error;
  }
  assert.fail('expected a TraceError');
}

test('LWF times: [DD:]HH:MM:SS[.ss], fractions rounded to the nearest second', () => {
  assert.equal(parseLwfTime('00:00:00'), 0);
  assert.equal(parseLwfTime('01:02:03'), 3723);
  assert.equal(parseLwfTime('01:00:00:00'), 86400);
  assert.equal(parseLwfTime('00:00:10.49'), 10);
  assert.equal(parseLwfTime('00:00:10.50'), 11);
  assert.equal(parseLwfTime('48:00:00'), 172800);
  for (const bad of ['', '10', '1:00', '00:60:00', '00:00:60', '00:00:0x', '-01:00:00', '1:2:3:4:5', '00:00:10,5']) {
    assert.equal(parseLwfTime(bad), null, bad);
  }
});

test('property: whole seconds written as [DD:]HH:MM:SS read back unchanged', () => {
  const two = (n: number) => String(n).padStart(2, '0');
  fc.assert(fc.property(fc.integer({ min: 0, max: 400 * 86400 }), fc.boolean(), (seconds, withDays) => {
    const clock = `${two(Math.floor(seconds / 60) % 60)}:${two(seconds % 60)}`;
    const written = withDays
      ? `${two(Math.floor(seconds / 86400))}:${two(Math.floor(seconds / 3600) % 24)}:${clock}`
      : `${two(Math.floor(seconds / 3600))}:${clock}`;
    assert.equal(parseLwfTime(written), seconds);
  }));
});

test('the small fixture gives one lease per start term, sorted by arrival', () => {
  const file = `${fixtures}small-xml.lwf`;
  assert.deepEqual(parseLwfXml(readTraceText(file), file), [
    {
      id: 'lwf-2', kind: 'exact', arrival: 300, requestedStart: 86400, duration: 1801, nodes: 4,
      perNode: { cpu: 0.5, memoryMiB: 512, diskMiB: 2048 }, preemptible: false, realDuration: 1200,
    },
    {
      id: 'web', kind: 'best-effort', arrival: 600, requestedStart: null, duration: 3600, nodes: 2,
      perNode: { cpu: 1, memoryMiB: 1024, diskMiB: 0 }, preemptible: true, image: { id: 'a&b.img', sizeMiB: 1024 },
    },
    {
      id: 'lwf-3', kind: 'immediate', arrival: 600, requestedStart: null, duration: 60, nodes: 1,
      perNode: { cpu: 1, memoryMiB: 1024, diskMiB: 0 }, preemptible: true, realDuration: 30,
    },
    {
      id: 'lwf-4', kind: 'best-effort', arrival: 1200, requestedStart: null, duration: 60, nodes: 1,
      perNode: { cpu: 1, memoryMiB: 1024, diskMiB: 0 }, preemptible: true,
    },
  ]);
});

test('sample.lwf, whose requests are all commented out, gives no leases', () => {
  const file = `${traces}sample.lwf`;
  assert.deepEqual(parseLwfXml(readTraceText(file), file), []);
});

test('a workload cut off before its closing tags names the unclosed element and its line', () => {
  const file = `${fixtures}truncated.lwf`;
  assert.throws(() => parseLwfXml(readTraceText(file), file), (error: unknown) => {
    assert.ok(error instanceof TraceError);
    assert.equal(error.file, file);
    assert.equal(error.line, 4);
    assert.equal(error.message, `${file}:4: <lease-requests> is never closed; add </lease-requests>`);
    return true;
  });
});

test('LWF mistakes are errors naming the line of the element at fault', () => {
  const cases: [string, number, RegExp][] = [
    [workload(`${NODES}\n<start/>\n<duration time="1:00"/>`), 5,
      /malformed time time="1:00" in <duration>; write times as \[DD:\]HH:MM:SS\[\.ss\]/],
    [workload(`${NODES}\n<start/>\n<duration time="00:00:00"/>`), 5, /<duration> must be longer than 0 s/],
    [workload(`${NODES}\n<start/><duration time="01:00:00"/>`, 'preemptible="true"', 'noon'), 2,
      /malformed time arrival="noon" in <lease-request>/],
    [workload(`${NODES}\n<start>\n<whenever/></start>\n<duration time="01:00:00"/>`), 5,
      /unknown start term <whenever>; use <start\/>/],
    [workload(`${NODES}\n<start>soon</start>\n<duration time="01:00:00"/>`), 4, /unknown start term "soon"/],
    [workload(`${NODES}\n<start><exact/></start>\n<duration time="01:00:00"/>`), 4,
      /<exact> lacks the required attribute time; add time="\.\.\."/],
    [workload(`${NODES}\n<start><exact time="00:10:00"/></start>\n<duration time="01:00:00"/>`, 'preemptible="false"', '00:20:00'), 4,
      /exact start 600 s is before arrival 1200 s/],
    [workload(`${NODES}\n<start/>\n<duration time="01:00:00"/>`, 'id="x"'), 2,
      /<lease> lacks the required attribute preemptible/],
    [workload(`${NODES}\n<start/>\n<duration time="01:00:00"/>`, 'preemptible="maybe"'), 2,
      /preemptible="maybe" is neither true nor false/],
    [workload(`${NODES}\n<start/>`), 2, /<lease> has no <duration>; add a <duration> element/],
    [workload(`${NODES}\n<start/>\n<duration time="01:00:00"/>\n<duraton time="01:00:00"/>`), 6,
      /unexpected <duraton> inside <lease>/],
    [workload(`${NODES}\n<start><now/></start>\n<duration time="01:00:00"/>\n<deadline time="02:00:00"/>`), 6,
      /a <deadline> lease cannot have the start term <now>/],
    [workload(`${NODES}\n<start/>\n<duration time="01:00:00"/>\n<deadline time="00:00:00"/>`), 6,
      /deadline 0 s is not after the earliest start 0 s/],
    [workload(`${NODES}\n<start>\n<periodic time="01:00:00" period="24:00:00"/></start>\n<duration time="01:00:00"/>`), 5,
      /<periodic> needs exactly one of count="N" or until="TIME"/],
    [workload(`${NODES}\n<start>\n<periodic time="01:00:00" period="00:00:00" count="2"/></start>\n<duration time="01:00:00"/>`), 5,
      /period="\.\.\." in <periodic> must be longer than 0 s/],
    [workload(`${NODES}\n<start>\n<periodic time="01:00:00" period="01:00:00" count="2" partial="yes"/></start>\n<duration time="01:00:00"/>`), 5,
      /partial="yes" is neither true nor false/],
    [workload('<nodes>\n<node-set numnodes="0"><res type="CPU" amount="100"/><res type="Memory" amount="1"/></node-set></nodes>\n' +
      '<start/><duration time="01:00:00"/>'), 4, /numnodes="0" in <node-set> is not a whole number >= 1/],
    [workload('<nodes>\n<node-set numnodes="1">\n<res type="Memory" amount="1"/></node-set></nodes>\n' +
      '<start/><duration time="01:00:00"/>'), 4, /<node-set> has no <res type="CPU">/],
    [workload(`${NODES}\n<start/><duration time="01:00:00"/>\n<software>\n<disk-image id="a.img"/></software>`), 6,
      /<disk-image> lacks the required attribute size/],
    [workload(`${NODES}\n<start/><duration time="01:00:00"/>\n<software/>`), 5,
      /<software> must hold exactly one of <disk-image> or <none\/>/],
  ];
  for (const [text, line, expected] of cases) {
    const error = errorFrom(text);
    assert.equal(error.line, line, expected.source);
    assert.match(error.message, new RegExp(`^w\\.lwf:${line}: ${expected.source}`));
  }
});

test('lease ids must be unique and the root must be a lease workload', () => {
  const request = `<lease-request arrival="00:00:00"><lease id="a" preemptible="true">${NODES}` +
    '<start/><duration time="01:00:00"/></lease></lease-request>';
  const twice = `<lease-workload><lease-requests>\n${request}\n${request}\n</lease-requests></lease-workload>`;
  assert.match(errorFrom(twice).message, /^w\.lwf:3: lease id "a" is already used at line 2;/);
  assert.match(errorFrom('<workload/>').message, /^w\.lwf:1: the root element is <workload>, not <lease-workload>/);
  assert.match(errorFrom('<lease-workload/>').message, /<lease-workload> has no <lease-requests>/);
});

test('allowStartBeforeArrival keeps an exact lease that starts before it arrives', () => {
  const text = workload(`${NODES}\n<start><exact time="00:10:00"/></start>\n<duration time="01:00:00"/>`, 'preemptible="false"', '00:20:00');
  const [lease] = parseLwfXml(text, 'w.lwf', { allowStartBeforeArrival: true });
  assert.equal(lease.requestedStart, 600);
  assert.equal(lease.arrival, 1200);
});
