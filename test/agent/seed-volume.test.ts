// A VM's seed on its node: the iso9660 `cidata` volume the agent writes (readable by root alone,
// holding the three files as sent), the read-only drive QEMU gets for it (after the disks, so they
// keep their names), the size bounds the agent holds a seed to, and a cold migration's receiver
// writing the seed itself from the same workload (it does not travel with the state).
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { QemuHost } from '../../src/agent/qemu-host.ts';
import { qemuCommand } from '../../src/agent/qemu/qemu-argv.ts';
import { SEED_FILE, writeSeedVolume } from '../../src/agent/seed-volume.ts';
import type { VmProcess, VmRuntime } from '../../src/agent/vm-runtime.ts';
import { buildSeed } from '../../src/seed/seed.ts';
import { LONGEST_SEED_TEXT, readResultValue, seedProblem } from '../../src/drivers/qemu/agent-messages.ts';
import type { Workload } from '../../src/drivers/qemu/protocol.ts';

const seed = buildSeed({
  workspaceId: 'lease-1/0', hostname: 'vws-lease-1-0', nics: [{ name: 'public', mac: '52:54:00:00:00:01' }],
  broker: { agentUrl: 'http://10.77.0.1/agent', serviceUrl: 'http://10.77.0.1', secret: 'one-time-secret-0123456789', publicKey: 'MCowBQYDK2VwAyEA' },
});

/** A file of an iso9660 volume, read by its Joliet name as cloud-init's mount sees it. */
const isoFile = (iso: string, name: string): string => execFileSync('isoinfo', ['-J', '-i', iso, '-x', `/${name}`], { encoding: 'utf8' });

test('the seed volume is iso9660 labelled cidata, mode 0600, and holds the three files as sent', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'vws-seed-volume-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const iso = join(dir, SEED_FILE);
  await writeSeedVolume(seed, iso);
  assert.equal(statSync(iso).mode & 0o777, 0o600, 'it may hold the VM\'s secret: root\'s alone');
  assert.match(execFileSync('isoinfo', ['-d', '-i', iso], { encoding: 'utf8' }), /^Volume id: cidata$/m);
  assert.equal(isoFile(iso, 'meta-data'), seed.metaData);
  assert.equal(isoFile(iso, 'user-data'), seed.userData);
  assert.equal(isoFile(iso, 'network-config'), seed.networkConfig);
  assert.deepEqual(readdirSync(dir), [SEED_FILE], 'nothing left beside it');
});

test('a seed over the bounds, or with text a file cannot hold, is refused before anything is written', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'vws-seed-volume-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const big = { ...seed, userData: 'x'.repeat(LONGEST_SEED_TEXT.userData + 1) };
  assert.match(seedProblem(big) ?? '', /^seed\.userData must NOT have more than 262144 characters/);
  await assert.rejects(writeSeedVolume(big, join(dir, SEED_FILE)), /seed\.userData/);
  await assert.rejects(writeSeedVolume({ ...seed, metaData: 'a\0b' }, join(dir, SEED_FILE)), /seed\.metaData/);
  await assert.rejects(writeSeedVolume({ ...seed, extra: 'x' } as typeof seed, join(dir, SEED_FILE)), /seed\.extra is not a field/);
  assert.deepEqual(readdirSync(dir), []);
  assert.equal(seedProblem(seed), null);
});

test("an agent's workload answer may carry a seed, held to the same bounds", () => {
  const workload: Workload = {
    vm: { id: 'lease-1/0', leaseId: 'lease-1', index: 0, node: 'n1', cpu: 1, memoryMiB: 64, image: null, mac: '52:54:00:00:00:01' },
    ip: '10.77.0.2', disk: null, boot: null, seed,
  };
  assert.deepEqual(readResultValue('workload', workload), workload);
  assert.throws(() => readResultValue('workload', { ...workload, seed: { ...seed, networkConfig: 'n'.repeat(LONGEST_SEED_TEXT.networkConfig + 1) } }), /seed\.networkConfig/);
});

test('QEMU gets the seed as a read-only raw virtio drive after the disks', () => {
  const base = { id: 'lease-1/0', dir: '/v/l', cpu: 1, memoryMiB: 64, disks: [{ path: '/v/l/disk.qcow2', format: 'qcow2' as const }, { path: '/v/l/scratch.qcow2', format: 'qcow2' as const }], nic: { mac: '52:54:00:00:00:01', tap: 'vwt0' } };
  const drives = (args: string[]) => args.flatMap((a, i) => (args[i - 1] === '-drive' ? [a] : []));
  assert.deepEqual(drives(qemuCommand(base, 'none', false).args).map((d) => d.split(',')[0]), ['file=/v/l/disk.qcow2', 'file=/v/l/scratch.qcow2']);
  const withSeed = drives(qemuCommand({ ...base, seed: '/v/l/seed.iso' }, 'none', false).args);
  assert.equal(withSeed.length, 3);
  assert.equal(withSeed[2], 'file=/v/l/seed.iso,if=virtio,format=raw,readonly=on,id=seed');
});

test('a cold migration\'s receiver writes the seed from the workload: it does not travel with the state', async (t) => {
  const data = mkdtempSync(join(tmpdir(), 'vws-seed-migrate-'));
  t.after(() => rmSync(data, { recursive: true, force: true }));
  const id = 'lease-1/0';
  const workload: Workload = {
    vm: { id, leaseId: 'lease-1', index: 0, node: 'a', cpu: 1, memoryMiB: 64, image: null, mac: '52:54:00:00:00:01' },
    ip: '10.77.0.2', disk: null, boot: null, seed,
  };
  // The sender: a suspended VM as a restarted agent finds it (its state file and vm.json).
  const senderVm = join(data, 'a', 'vms', 'lease-1%2f0');
  mkdirSync(senderVm, { recursive: true });
  writeFileSync(join(senderVm, 'memory.state'), 'guest memory');
  writeFileSync(join(senderVm, 'vm.json'), JSON.stringify({ workload, status: { id, node: 'a', state: 'suspended', ip: null, console: null } }));
  const unused = async (): Promise<never> => {
    throw new Error('not in this test');
  };
  const runtime: VmRuntime = { boot: unused, restore: unused, receive: unused, adopt: async (): Promise<VmProcess | null> => null };
  const open = (name: string) => QemuHost.open({
    data: join(data, name), server: 'http://127.0.0.1:9', token: 't', imageCacheMiB: 16, bridge: 'vwsbr0', runtime,
    node: { name, cpu: 1, memoryMiB: 512, diskMiB: 1024, transferAddress: '127.0.0.1', migrationAddress: '127.0.0.1' },
  });
  const [sender, receiver] = [await open('a'), await open('b')];
  t.after(() => Promise.all([sender.close(), receiver.close()]));
  assert.equal((await sender.status())[0]?.state, 'suspended');

  const there = { ...workload, vm: { ...workload.vm, node: 'b' } };
  const landing = await receiver.receive(there);
  await sender.send({ id, to: landing });
  assert.equal((await receiver.received({ id })).state, 'suspended');
  const receivedVm = join(data, 'b', 'vms', 'lease-1%2f0');
  assert.equal(isoFile(join(receivedVm, SEED_FILE), 'user-data'), seed.userData);
  assert.equal(statSync(join(receivedVm, SEED_FILE)).mode & 0o777, 0o600);
  assert.equal(existsSync(senderVm), false, 'the sender forgot it');
});
