// A VM of the project's test guest as the QEMU layer takes it, ready to boot on a node network:
// its own directory with a fresh overlay over the guest's disk, a tap on the bridge, and a DHCP
// entry giving its MAC the address. For the QEMU layer's tests and bench:vm.

import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { buildTestGuest } from '../../../guest/build.ts';
import { createOverlay } from '../../../src/agent/images/disks.ts';
import { type NodeNetwork, tapName } from '../../../src/agent/network/node-network.ts';
import type { VmProcessConfig } from '../../../src/agent/vm-runtime.ts';

export interface GuestVm {
  /** Directory the VM's own directory goes under. */
  dir: string;
  name: string;
  memoryMiB: number;
  mac: string;
  ip: string;
  /** Appended to the guest's kernel command line. */
  cmdline?: string;
}

export async function guestVmConfig(net: NodeNetwork, netns: string, vm: GuestVm): Promise<VmProcessConfig> {
  const guest = buildTestGuest();
  const dir = join(vm.dir, vm.name);
  mkdirSync(dir, { recursive: true });
  await createOverlay(guest.disk, join(dir, 'disk.qcow2'));
  await net.addTap(tapName(vm.name));
  await net.setHost(vm.mac, vm.ip);
  return {
    id: vm.name, dir, cpu: 1, memoryMiB: vm.memoryMiB, kernel: guest.kernel, initrd: guest.initrd,
    cmdline: vm.cmdline ? `${guest.cmdline} ${vm.cmdline}` : guest.cmdline,
    disks: [{ path: join(dir, 'disk.qcow2'), format: 'qcow2' }], nic: { mac: vm.mac, tap: tapName(vm.name) }, netns,
  };
}
