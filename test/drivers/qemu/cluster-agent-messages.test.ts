// Probes of what an agent says about cluster networks, as the service reads it: a node's underlay
// address, a workload's private NIC and cluster network (an agent answers `workload` with what a
// VM was started with, and the other side of a migration is started from it), and the answer to
// clusterPeers. Each bad field is refused naming it; the good shapes pass.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { AgentMessageError, nodeReportProblem, readResultValue } from '../../../src/drivers/qemu/agent-messages.ts';
import type { NodeReport, Workload } from '../../../src/drivers/qemu/protocol.ts';

const node: NodeReport = { name: 'n1', cpu: 2, memoryMiB: 2048, diskMiB: 10_000, transferAddress: '10.98.0.1', migrationAddress: '10.98.0.1', underlayAddress: '10.98.0.1' };

const workload: Workload = {
  vm: { id: 'C1/0', leaseId: 'C1', index: 0, node: 'n1', cpu: 1, memoryMiB: 256, image: null, mac: '52:54:00:00:01:10', networks: ['public', 'private'] },
  ip: '10.77.0.10',
  disk: null,
  boot: null,
  nics: [{ network: 'private', mac: '0a:00:00:01:00:0a', ip: '10.200.0.10' }],
  cluster: { number: 1, vni: 10_001, nodeAddress: '10.200.0.254', prefix: 24, contextAddress: '10.200.0.1', peers: ['10.98.0.2'] },
};

test('a node report with an underlay address passes; a bad one is refused naming the field', () => {
  assert.equal(nodeReportProblem(node), null);
  const { underlayAddress: _omitted, ...withoutUnderlay } = node;
  assert.equal(nodeReportProblem(withoutUnderlay), null, 'a node without cluster networks says nothing');
  for (const bad of ['not an address', '10.98.0.1; reboot', '', 42]) {
    assert.match(nodeReportProblem({ ...node, underlayAddress: bad as string }) ?? '', /node\.underlayAddress/, JSON.stringify(bad));
  }
});

test("a workload's cluster fields are read strictly", () => {
  assert.deepEqual(readResultValue('workload', workload), workload);
  assert.deepEqual(readResultValue('workload', { ...workload, vm: { ...workload.vm, networks: ['private'] }, publicNic: false }).publicNic, false);
  assert.equal(readResultValue('clusterPeers', null), null);
  const bad: Array<[string, unknown, RegExp]> = [
    ['a public extra NIC', { ...workload, nics: [{ ...workload.nics![0], network: 'public' }] }, /nics\.0\.network/],
    ['two private NICs', { ...workload, nics: [workload.nics![0], workload.nics![0]] }, /nics must NOT have more than 1 items/],
    ['an upper-case MAC', { ...workload, nics: [{ ...workload.nics![0], mac: '0A:00:00:01:00:0A' }] }, /nics\.0\.mac/],
    ['an unknown NIC field', { ...workload, nics: [{ ...workload.nics![0], bridge: 'br0' }] }, /nics\.0\.bridge is not a field/],
    ['a VNI over 24 bits', { ...workload, cluster: { ...workload.cluster!, vni: 2 ** 24 } }, /cluster\.vni/],
    ['a fractional network number', { ...workload, cluster: { ...workload.cluster!, number: 1.5 } }, /cluster\.number/],
    ['a string prefix', { ...workload, cluster: { ...workload.cluster!, prefix: '24' } }, /cluster\.prefix/],
    ['a peer that is a name', { ...workload, cluster: { ...workload.cluster!, peers: ['node-b'] } }, /cluster\.peers\.0/],
    ['too many peers', { ...workload, cluster: { ...workload.cluster!, peers: Array.from({ length: 1025 }, () => '10.98.0.2') } }, /cluster\.peers/],
    ['an unknown network', { ...workload, vm: { ...workload.vm, networks: ['dmz'] } }, /vm\.networks\.0/],
    ['a network twice', { ...workload, vm: { ...workload.vm, networks: ['private', 'private'] } }, /vm\.networks/],
    ['publicNic as a string', { ...workload, publicNic: 'false' }, /publicNic/],
  ];
  assert.throws(() => readResultValue('clusterPeers', { done: true }), AgentMessageError, 'clusterPeers answers nothing');
  for (const [what, value, message] of bad) {
    assert.throws(() => readResultValue('workload', value), (e: Error) => e instanceof AgentMessageError && message.test(e.message), what);
  }
});
