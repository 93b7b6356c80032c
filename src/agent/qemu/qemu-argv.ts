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

/**
 * TCG's translation buffer (MiB). QEMU 7.2 sizes it at 1 GiB on a host of 8 GiB or more and fills
 * it as it translates guest code, so a TCG guest's QEMU would grow by up to that much over its life:
 * capped, the memory limit of the VM's cgroup can allow for it (QEMU_OVERHEAD below). A full buffer
 * is flushed and refilled, which costs a little speed, never correctness.
 */
export const TCG_BUFFER_MIB = 64;

/**
 * What QEMU itself uses besides the guest's memory (MiB), measured on this project's test guest
 * under TCG (QEMU 7.2, 2026-12-07; docs/enforcement.md): a 512 MiB guest that had written 256 MiB
 * had 453 MiB resident, of which 346 MiB guest memory, 54 MiB translation buffer and 53 MiB the
 * rest (the binary and its libraries 20 MiB, heap, device and block-layer buffers). The fixed part
 * allows over twice that; the part per guest MiB covers what grows with the guest (the dirty bitmap
 * and page bookkeeping of a migration); TCG adds its buffer.
 */
export const QEMU_OVERHEAD = { fixedMiB: 128, perGuestMiB: 1 / 32 } as const;

/** The memory limit of a VM's QEMU process: the guest's memory, exactly as leased, and QEMU's own. */
export function processMemoryMiB(guestMiB: number, kvm = kvmUsable()): number {
  return guestMiB + QEMU_OVERHEAD.fixedMiB + Math.ceil(guestMiB * QEMU_OVERHEAD.perGuestMiB) + (kvm ? 0 : TCG_BUFFER_MIB);
}

/** QEMU's throttle group of a VM's disks: all of them together take the lease's I/O limits. */
const THROTTLE_GROUP = 'vws-io';

/** `-drive` options for the lease's disk I/O limits, empty without any. */
function throttling(config: VmProcessConfig): string {
  const t = config.diskThrottle;
  if (!t || (t.bytesPerSecond === undefined && t.iops === undefined)) return '';
  return [
    ...(t.bytesPerSecond !== undefined ? [`throttling.bps-total=${t.bytesPerSecond}`] : []),
    ...(t.iops !== undefined ? [`throttling.iops-total=${t.iops}`] : []),
    `throttling.group=${THROTTLE_GROUP}`,
  ].map((o) => `,${o}`).join('');
}

export type Incoming = 'none' | 'defer';

/** The program and arguments to spawn: inside the node's network namespace when it has one. */
export function qemuCommand(config: VmProcessConfig, incoming: Incoming, kvm = kvmUsable()): { program: string; args: string[] } {
  const files = vmFiles(config.dir);
  if (files.qmp.length > SOCKET_PATH_MAX) {
    throw new Error(`the QMP socket path ${files.qmp} is ${files.qmp.length} bytes, over the ${SOCKET_PATH_MAX} a unix socket allows: give the agent a shorter --data directory`);
  }
  const args = [
    ...['-name', config.id.replace(/,/g, '_'), '-nodefaults', '-no-user-config'],
    ...['-machine', 'q35', '-accel', kvm ? 'kvm' : `tcg,tb-size=${TCG_BUFFER_MIB}`, ...(kvm ? ['-cpu', 'host'] : [])],
    // Exactly the leased memory, fixed: -nodefaults leaves out any balloon, so nothing grows or shrinks it.
    ...['-m', String(config.memoryMiB), '-smp', String(config.cpu)],
    ...(config.kernel ? ['-kernel', config.kernel] : []),
    ...(config.initrd ? ['-initrd', config.initrd] : []),
    ...(config.cmdline ? ['-append', config.cmdline] : []),
    ...config.disks.flatMap((d, i) => ['-drive', `file=${d.path},if=virtio,format=${d.format},id=disk${i},cache=writeback${throttling(config)}`]),
    // Last, so the disks keep their names (vda, vdb) in the guest with or without a seed.
    ...(config.seed ? ['-drive', `file=${config.seed},if=virtio,format=raw,readonly=on,id=${SEED_DRIVE}`] : []),
    ...['-netdev', `tap,id=net0,ifname=${config.nic.tap},script=no,downscript=no`],
    ...['-device', `virtio-net-pci,netdev=net0,mac=${config.nic.mac},romfile=`],
    ...(config.moreNics ?? []).flatMap((n, i) => [
      ...['-netdev', `tap,id=net${i + 1},ifname=${n.tap},script=no,downscript=no`],
      ...['-device', `virtio-net-pci,netdev=net${i + 1},mac=${n.mac},romfile=`],
    ]),
    ...['-chardev', `file,id=serial0,path=${files.serial},append=on`, '-serial', 'chardev:serial0'],
    ...['-qmp', `unix:${files.qmp},server=on,wait=off`],
    ...['-display', 'none', '-vga', 'none', '-no-reboot'],
    ...['-pidfile', files.pidfile, '-daemonize'],
    ...(incoming === 'defer' ? ['-incoming', 'defer'] : []),
  ];
  const command = config.netns ? ['ip', 'netns', 'exec', config.netns, QEMU_BINARY, ...args] : [QEMU_BINARY, ...args];
  const join = config.cgroupProcs ?? [];
  if (join.length === 0) return { program: command[0], args: command.slice(1) };
  // The shell joins the VM's cgroups, then becomes QEMU: everything QEMU runs and allocates, from
  // its first instruction, is counted and capped there (the daemonized child inherits the groups).
  return { program: '/bin/sh', args: ['-c', JOIN_CGROUPS, 'vws-join-cgroups', String(join.length), ...join, ...command] };
}

/** sh -c: $1 cgroup.procs files follow, then the command to exec. Exit 125 if a group cannot be joined. */
const JOIN_CGROUPS = 'n=$1; shift; while [ "$n" -gt 0 ]; do echo $$ > "$1" || exit 125; shift; n=$((n - 1)); done; exec "$@"';
