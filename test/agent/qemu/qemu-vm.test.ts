// The QEMU layer with the real test guest under TCG, in a network namespace of the test's own:
// boot, save to a file and restore (the guest's counter goes on from where it stopped), a live
// migration to a second process with the disk's writes carried along, adoption by a new agent, a
// graceful stop, and a QEMU that cannot start saying why.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { isRunning } from '../../../src/agent/network/processes.ts';
import { NodeNetwork } from '../../../src/agent/network/node-network.ts';
import { adoptVm, bootVm, receiveVm, restoreVm } from '../../../src/agent/qemu/qemu-vm.ts';
import type { VmProcessConfig } from '../../../src/agent/vm-runtime.ts';
import { httpGet, sandbox, type Sandbox } from '../network/sandbox.ts';
import { waitFor } from '../../support/wait.ts';
import { guestVmConfig } from './guest-vm.ts';

interface Bed {
  box: Sandbox;
  config(name: string, mac: string, ip: string): Promise<VmProcessConfig>;
}

/** A sandbox with a node network; its cleanup kills whatever runs in it, VMs included. */
async function bed(t: { after(fn: () => Promise<void>): void }, label: string): Promise<Bed> {
  const box = sandbox(label);
  t.after(() => box.cleanup());
  const net = await NodeNetwork.open({ netns: box.netns, bridge: 'vwsbr0', gateway: '10.77.0.1', prefix: 24, dir: join(box.dir, 'net') });
  return { box, config: (name, mac, ip) => guestVmConfig(net, box.netns, { dir: box.dir, name, memoryMiB: 128, mac, ip }) };
}

const counter = async (box: Sandbox, ip: string): Promise<number> => Number((await httpGet(box, ip, '/counter')).trim());

/** The guest's counter once it is past `n` (the guest counts once a second). */
const countPast = (box: Sandbox, ip: string, n: number): Promise<number> =>
  waitFor(`the counter of ${ip} to pass ${n}`, async () => {
    const value = await counter(box, ip);
    return value > n && value;
  }, { everyMs: 200 });

/** While the saved guest is away, a second guest keeps counting: the pause is measured in its ticks, not in host time. */
const PAUSE_TICKS = 8;

test('a VM saved to a file and restored in a new process counts on from where it stopped', { timeout: 240_000 }, async (t) => {
  const b = await bed(t, 'qsave');
  const config = await b.config('save', '52:54:00:77:01:0a', '10.77.0.10');
  const witness = await bootVm(await b.config('witness', '52:54:00:77:01:0b', '10.77.0.9'));
  const vm = await bootVm(config);
  // Let it count a little first, so that a restart from 1 cannot pass for continuing.
  await countPast(b.box, '10.77.0.10', 5);
  await countPast(b.box, '10.77.0.9', 0);
  // The witness is read first at the start and last at the end: its stretch holds the guest's.
  const witnessFrom = await counter(b.box, '10.77.0.9');
  const atSave = await counter(b.box, '10.77.0.10');

  const file = join(config.dir, 'memory.state');
  const saved = await vm.saveTo(file);
  assert.ok(!isRunning(vm.pid), 'the process is gone after a save');
  assert.ok(saved.bytes > 1_000_000 && saved.ms > 0, `a state file was written: ${JSON.stringify(saved)}`);
  await countPast(b.box, '10.77.0.9', (await counter(b.box, '10.77.0.9')) + PAUSE_TICKS - 1);

  const restored = await restoreVm(config, file);
  assert.notEqual(restored.vm.pid, vm.pid);
  const after = await counter(b.box, '10.77.0.10');
  const witnessTo = await counter(b.box, '10.77.0.9');
  // Over the same stretch the witness counted through the pause and the saved guest did not: the
  // two differ by the pause's PAUSE_TICKS, less one for its edge and one for each end of the
  // stretch. A guest counting through the pause would be within a tick or two of the witness.
  assert.ok(after >= atSave, `the counter went on from ${atSave} (read ${after}), not from 1`);
  assert.ok(after - atSave <= witnessTo - witnessFrom - (PAUSE_TICKS - 3),
    `the counter went ${after - atSave} from ${atSave} while the witness went ${witnessTo - witnessFrom} with ${PAUSE_TICKS} of them in the pause: it counted through the pause`);
  await countPast(b.box, '10.77.0.10', after);
  await restored.vm.stop(false);
  await witness.stop(false);
  assert.ok(!isRunning(restored.vm.pid));
});

test('a live migration moves the running guest to a waiting process with its disk writes, and reports total time and downtime', { timeout: 240_000 }, async (t) => {
  const b = await bed(t, 'qlive');
  const mac = '52:54:00:77:02:0a';
  const source = await b.config('src', mac, '10.77.0.11');
  const vm = await bootVm(source);
  const before = await countPast(b.box, '10.77.0.11', 3);

  // The destination has its own tap and a fresh overlay over the same base, as another node would.
  const target = await b.config('dst', mac, '10.77.0.11');
  const incoming = await receiveVm(target, '127.0.0.1');
  const report = await vm.migrateTo({ address: '127.0.0.1', port: incoming.port, diskPort: incoming.diskPort });
  const moved = await incoming.finish();
  assert.ok(!isRunning(vm.pid), 'the source process is gone');
  assert.ok(report.totalMs > 0 && report.downtimeMs >= 0 && report.downtimeMs < report.totalMs, JSON.stringify(report));

  const after = await counter(b.box, '10.77.0.11');
  assert.ok(after >= before, `the counter went on (${before} -> ${after})`);
  await countPast(b.box, '10.77.0.11', after);
  assert.equal((await httpGet(b.box, '10.77.0.11', '/ip')).trim(), '10.77.0.11');

  await moved.stop(false);
  // The guest wrote its boot record into its disk on the source; the disk mirror copied those
  // clusters into the destination's overlay, which was empty when it was made.
  const map = JSON.parse(execFileSync('qemu-img', ['map', '--output=json', join(target.dir, 'disk.qcow2')], { encoding: 'utf8' })) as Array<{ depth: number; data: boolean }>;
  assert.ok(map.some((extent) => extent.depth === 0 && extent.data), 'the destination overlay holds the data the guest wrote');
});

test('a VM outlives the agent that started it and is adopted from its directory; a graceful stop powers the guest off', { timeout: 180_000 }, async (t) => {
  const b = await bed(t, 'qadopt');
  const config = await b.config('adopt', '52:54:00:77:03:0a', '10.77.0.12');
  const first = await bootVm(config);
  await countPast(b.box, '10.77.0.12', 1);
  let reported = '';
  first.onExit((detail) => (reported = detail));
  await first.release();
  assert.ok(isRunning(first.pid), 'releasing leaves the process running');

  const adopted = await adoptVm(config.dir);
  assert.ok(adopted, 'the VM is adopted');
  assert.equal(adopted.pid, first.pid);
  await countPast(b.box, '10.77.0.12', 2);

  let exit = '';
  adopted.onExit((detail) => (exit = detail));
  await adopted.stop(true);
  assert.ok(!isRunning(adopted.pid));
  const serial = readFileSync(join(config.dir, 'serial.log'), 'utf8');
  assert.match(serial, /reboot: Power down/, 'the guest heard the power button and powered itself off');
  assert.equal(exit, '', 'a stop the agent asked for is not reported as an unexpected exit');
  assert.equal(reported, '');
  assert.equal(await adoptVm(config.dir), null, 'nothing to adopt once it stopped');
});

test('a guest that powers off by itself is reported with the reason', { timeout: 180_000 }, async (t) => {
  const b = await bed(t, 'qexit');
  const config = await b.config('exit', '52:54:00:77:04:0a', '10.77.0.13');
  const vm = await bootVm(config);
  await countPast(b.box, '10.77.0.13', 1);
  const exited = new Promise<string>((resolve) => vm.onExit(resolve));
  // The power button, pressed from outside the agent's own calls, is the guest's own decision.
  await vm.qmp.execute('system_powerdown');
  assert.match(await exited, /guest powered off|guest-shutdown/);
});

test('a QEMU that cannot start says why', { timeout: 60_000 }, async (t) => {
  const b = await bed(t, 'qfail');
  const config = await b.config('fail', '52:54:00:77:05:0a', '10.77.0.14');
  await assert.rejects(bootVm({ ...config, kernel: join(b.box.dir, 'no-such-kernel') }), (e: Error) => {
    assert.match(e.message, /qemu-system-x86_64 exited with code 1: .*no-such-kernel/s);
    return true;
  });
  assert.ok(!existsSync(join(config.dir, 'qemu.pid')), 'no pidfile left');
});
