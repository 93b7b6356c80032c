// The command line of one VM's QEMU process. Everything the agent must find again after a
// restart (pidfile, QMP socket, serial log) lives in the VM's directory.

import { join } from 'node:path';
import type { VmProcessConfig } from '../vm-runtime.ts';
import { accelChoice, QEMU_BINARY } from './accel-probe.ts';

export { QEMU_BINARY };

/** The seed's drive: never mirrored in a live migration, as the receiver writes its own from the workload. */
export const SEED_DRIVE = 'seed';

/** A unix socket path longer than this does not fit in sockaddr_un. */
const SOCKET_PATH_MAX = 107;

export const vmFiles = (dir: string) => ({
  pidfile: join(dir, 'qemu.pid'),
  qmp: join(dir, 'qmp.sock'),
  serial: join(dir, 'serial.log'),
});

/** Whether VMs run under KVM here (see accel-probe.ts). */
export const kvmUsable = (): boolean => accelChoice().kvm;

export type Incoming = 'none' | 'defer';

/** The program and arguments to spawn: inside the node's network namespace when it has one. */
export function qemuCommand(config: VmProcessConfig, incoming: Incoming, kvm = kvmUsable()): { program: string; args: string[] } {
  const files = vmFiles(config.dir);
  if (files.qmp.length > SOCKET_PATH_MAX) {
    throw new Error(`the QMP socket path ${files.qmp} is ${files.qmp.length} bytes, over the ${SOCKET_PATH_MAX} a unix socket allows: give the agent a shorter --data directory`);
  }
  const args = [
    ...['-name', config.id.replace(/,/g, '_'), '-nodefaults', '-no-user-config'],
    ...['-machine', `q35,accel=${kvm ? 'kvm' : 'tcg'}`, ...(kvm ? ['-cpu', 'host'] : [])],
    ...['-m', String(config.memoryMiB), '-smp', String(config.cpu)],
    ...(config.kernel ? ['-kernel', config.kernel] : []),
    ...(config.initrd ? ['-initrd', config.initrd] : []),
    ...(config.cmdline ? ['-append', config.cmdline] : []),
    ...config.disks.flatMap((d, i) => ['-drive', `file=${d.path},if=virtio,format=${d.format},id=disk${i},cache=writeback`]),
    // Last, so the disks keep their names (vda, vdb) in the guest with or without a seed.
    ...(config.seed ? ['-drive', `file=${config.seed},if=virtio,format=raw,readonly=on,id=${SEED_DRIVE}`] : []),
    ...['-netdev', `tap,id=net0,ifname=${config.nic.tap},script=no,downscript=no`],
    ...['-device', `virtio-net-pci,netdev=net0,mac=${config.nic.mac},romfile=`],
    ...['-chardev', `file,id=serial0,path=${files.serial},append=on`, '-serial', 'chardev:serial0'],
    ...['-qmp', `unix:${files.qmp},server=on,wait=off`],
    ...['-display', 'none', '-vga', 'none', '-no-reboot'],
    ...['-pidfile', files.pidfile, '-daemonize'],
    ...(incoming === 'defer' ? ['-incoming', 'defer'] : []),
  ];
  if (!config.netns) return { program: QEMU_BINARY, args };
  return { program: 'ip', args: ['netns', 'exec', config.netns, QEMU_BINARY, ...args] };
}
