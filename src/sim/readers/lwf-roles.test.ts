// Clusters in the XML LWF: one <node-set> per role, named by role="...".

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import fc from 'fast-check';
import { configWith } from '../../core/config.ts';
import { checkRoles } from '../../core/roles.ts';
import { validateSchedule } from '../../../test/support/validate-schedule.ts';
import { scheduleLines } from '../schedule-export.ts';
import { simulate } from '../simulator.ts';
import { TraceError } from './errors.ts';
import { parseLwfXml } from './lwf-xml.ts';
import { readTraceText } from './text.ts';

const set = (attributes: string, cpu = 100, memory = 1024): string =>
  `<node-set numnodes="1" ${attributes}><res type="CPU" amount="${cpu}"/><res type="Memory" amount="${memory}"/></node-set>`;

// One lease request; its <nodes> holds `sets`, one per line from line 4 on.
function workload(sets: string[]): string {
  return '<lease-workload><lease-requests>\n<lease-request arrival="00:00:00"><lease id="c" preemptible="true">\n<nodes>\n'
    + `${sets.join('\n')}\n</nodes>\n<start/><duration time="00:10:00"/>\n</lease></lease-request>\n</lease-requests></lease-workload>\n`;
}

function errorFrom(text: string): TraceError {
  try {
    parseLwfXml(text, 'c.lwf');
  } catch (error) {
    assert.ok(error instanceof TraceError, `expected a TraceError, got ${String(error)}`);
    return error;
  }
  assert.fail('expected a TraceError');
}

test('node sets with roles make a cluster: one role each, the lease\'s nodes and perNode their envelope', () => {
  const [lease] = parseLwfXml(workload([
    set('role="head" networks="public private" provides="scheduler-port"', 200, 2048),
    set('role="worker" min="1" requires="head.ip head.scheduler-port"').replace('numnodes="1"', 'numnodes="3"'),
  ]), 'c.lwf');
  assert.equal(lease.nodes, 4);
  assert.deepEqual(lease.perNode, { cpu: 2, memoryMiB: 2048, diskMiB: 0 });
  assert.deepEqual(lease.roles, [
    { name: 'head', count: 1, perNode: { cpu: 2, memoryMiB: 2048, diskMiB: 0 }, networks: ['public', 'private'], provides: ['scheduler-port'], requires: [] },
    { name: 'worker', count: 3, perNode: { cpu: 1, memoryMiB: 1024, diskMiB: 0 }, networks: ['private'], provides: [], requires: ['head.ip', 'head.scheduler-port'], minCount: 1 },
  ]);
});

test('node sets without roles are a plain lease, as before', () => {
  const [lease] = parseLwfXml(workload([set(''), set('')]), 'c.lwf');
  assert.equal(lease.roles, undefined);
  assert.equal(lease.nodes, 2);
});

test('bad role input names the file and the line of the node set at fault', () => {
  const mixed = errorFrom(workload([set('role="head"'), set('')]));
  assert.equal(mixed.line, 5);
  assert.match(mixed.message, /^c\.lwf:5: a <node-set> without role/);
  const twice = errorFrom(workload([set('role="worker"'), set('role="worker"')]));
  assert.match(twice.message, /^c\.lwf:4: roles: the name 'worker' is used twice/);
  const unknown = errorFrom(workload([set('role="worker" requires="head.ip"')]));
  assert.match(unknown.message, /^c\.lwf:4: role 'worker' requires 'head\.ip', but the cluster has no role 'head'/);
  const network = errorFrom(workload([set('role="head"'), set('role="worker" networks="dmz"')]));
  assert.match(network.message, /^c\.lwf:5: unknown network "dmz"/);
  const min = errorFrom(workload([set('role="worker" min="2"')]));
  assert.match(min.message, /^c\.lwf:4: role 'worker': minCount must be a whole number from 1 to its count/);
  const name = errorFrom(workload([set('role="Head"')]));
  assert.match(name.message, /^c\.lwf:4: roles: 'Head' is not a role name/);
});

test('the cluster fixture simulates with every role co-allocated, and the shared checker accepts its export', () => {
  const file = fileURLToPath(new URL('../../../test/fixtures/clusters.lwf', import.meta.url));
  const nodes = Array.from({ length: 4 }, (_, i) => ({ id: `n${i + 1}`, cpu: 1, memoryMiB: 1024, diskMiB: 0 }));
  const scheduler = simulate({ requests: parseLwfXml(readTraceText(file), file), nodes, config: configWith({}) });
  const lines = [...scheduleLines(scheduler.allLeases(), nodes)];
  const byId = new Map(lines.slice(1).map((l) => JSON.parse(l)).map((l) => [l.id, l]));
  assert.deepEqual([...byId.keys()], ['hpc/head', 'hpc/worker', 'meeting', 'class/teacher', 'class/student']);
  const times = (id: string) => byId.get(id).segments.map((s: { kind: string; start: number; end: number }) => [s.kind, s.start, s.end]);
  assert.deepEqual(times('hpc/head'), times('hpc/worker'));
  assert.ok(times('hpc/head').some(([kind]: [string]) => kind === 'suspend'), 'the reservation suspends the whole cluster');
  // The workers (1 CPU each) take n1-n3; the head (0.5 CPU) fits beside none of them.
  assert.deepEqual(byId.get('hpc/head').segments[0].nodes, ['n4']);
  // A teacher and a student (0.5 CPU each) share a node.
  assert.deepEqual([byId.get('class/teacher').segments[0].nodes, byId.get('class/student').segments[0].nodes], [['n1'], ['n1', 'n2']]);
  const checked = validateSchedule(`${lines.join('\n')}\n`, ['--nodes', '4']);
  assert.equal(checked.status, 0, checked.output);
  assert.match(checked.output, /clusters 2/);
});

test('property: any role attributes give a cluster that checkRoles accepts, or a TraceError naming the file and a line', () => {
  const word = fc.stringMatching(/^[a-zA-Z0-9.\- ]{0,12}$/);
  const attributes = fc.record({
    role: fc.option(fc.constantFrom('head', 'worker', 'Head', 'w', '', '1x', 'db'), { nil: undefined }),
    min: fc.option(fc.constantFrom('0', '1', '2', 'x', '-1', '1.5'), { nil: undefined }),
    networks: fc.option(fc.oneof(fc.constantFrom('public', 'private', 'public private', 'private private', ''), word), { nil: undefined }),
    provides: fc.option(fc.oneof(fc.constantFrom('port', 'ip', 'port port'), word), { nil: undefined }),
    requires: fc.option(fc.oneof(fc.constantFrom('head.ip', 'worker.port', 'head.port', 'nodot'), word), { nil: undefined }),
  });
  fc.assert(fc.property(fc.array(attributes, { minLength: 1, maxLength: 3 }), (sets) => {
    const text = workload(sets.map((a) => set(Object.entries(a).filter(([, v]) => v !== undefined).map(([k, v]) => `${k}="${v}"`).join(' '))));
    try {
      const [lease] = parseLwfXml(text, 'c.lwf');
      if (lease.roles) assert.equal(checkRoles(lease.roles), null);
    } catch (error) {
      assert.ok(error instanceof TraceError, String(error));
      assert.match(error.message, /^c\.lwf:\d+: /);
    }
  }), { numRuns: 500 });
});
