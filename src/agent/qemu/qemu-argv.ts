// The command line of one VM's QEMU process. Everything the agent must find again after a
// restart (pidfile, QMP socket, serial log) lives in the VM's directory.

import { spawnSync } from 'node:child_process';
import { accessSync, constants } from 'node:fs';
import { join } from 'node:path';
import type { VmProcessConfig } from '../vm-runtime.ts';

export const QEMU_BINARY = process.env.VWS_QEMU ?? 'qemu-system-x86_64';

/** A unix socket path longer than this does not fit in sockaddr_un. */
const SOCKET_PATH_MAX = 107;

export const vmFiles = (dir: string) => ({
  pidfile: join(dir, 'qemu.pid'),
  qmp: join(dir, 'qmp.sock'),
  serial: join(dir, 'serial.log'),
});

let kvmVerdict: boolean | undefined;

/**
 * Whether VMs can run under KVM here. An openable /dev/kvm is not enough: nested or restricted
 * hosts expose one that fails as the vCPU is set up (seen here: "failed to set MSR 0x10a"), so
 * QEMU is asked to set one up and quit. VWS_ACCEL=kvm|tcg overrides the probe.
 */
export function kvmUsable(): boolean {
  if (process.env.VWS_ACCEL) return process.env.VWS_ACCEL === 'kvm';
  if (kvmVerdict !== undefined) return kvmVerdict;
  try {
    accessSync('/dev/kvm', constants.R_OK | constants.W_OK);
  } catch {
    return (kvmVerdict = false);
  }
  const probe = spawnSync(QEMU_BINARY, ['-machine', 'q35,accel=kvm', '-cpu', 'host', '-m', '16', '-nodefaults', '-display', 'none', '-S', '-qmp', 'stdio'], {
    input: '{"execute":"qmp_capabilities"}\n{"execute":"quit"}\n',
    timeout: 10_000,
    encoding: 'utf8',
  });
  return (kvmVerdict = probe.status === 0 && !/error|assert/i.test(probe.stderr ?? ''));
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
    ...['-machine', `q35,accel=${kvm ? 'kvm' : 'tcg'}`, ...(kvm ? ['-cpu', 'host'] : [])],
    ...['-m', String(config.memoryMiB), '-smp', String(config.cpu)],
    ...(config.kernel ? ['-kernel', config.kernel] : []),
    ...(config.initrd ? ['-initrd', config.initrd] : []),
    ...(config.cmdline ? ['-append', config.cmdline] : []),
    ...config.disks.flatMap((d, i) => ['-drive', `file=${d.path},if=virtio,format=${d.format},id=disk${i},cache=writeback`]),
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
