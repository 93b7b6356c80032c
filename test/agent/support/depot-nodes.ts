// Nodes sharing a depot as the depot tests lay them out: QemuHosts over real directories (a data
// dir each, one depot dir), whose VM processes are stand-ins (the files and the host are real; a
// suspended VM has no process, so no QEMU is needed to park and unpark one), and a suspended VM's
// files written as a suspension leaves them.

import { randomBytes } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fsSyncer, type Syncer } from '../../../src/agent/durable.ts';
import { QemuHost } from '../../../src/agent/qemu-host.ts';
import { MEMORY_FILE, SCRATCH_FILE, vmDirName } from '../../../src/agent/vm-parts.ts';
import type { VmRuntime } from '../../../src/agent/vm-runtime.ts';
import type { Workload } from '../../../src/drivers/qemu/protocol.ts';

export const VM_ID = 'lease-7/0';

export function workloadOf(id = VM_ID, node = 'node-a'): Workload {
  const [leaseId, index] = id.split('/');
  return {
    vm: { id, leaseId, index: Number(index), node, cpu: 1, memoryMiB: 64, image: null, mac: '52:54:00:00:07:00', scratchMiB: 64 },
    ip: '10.77.0.7', disk: null, boot: null,
  };
}

/** No process ever runs: the VMs here are suspended. */
const noProcesses: VmRuntime = {
  boot: () => Promise.reject(new Error('no VM boots in the depot tests')),
  restore: () => Promise.reject(new Error('no VM resumes in the depot tests')),
  receive: () => Promise.reject(new Error('no VM migrates live in the depot tests')),
  adopt: async () => null,
};

export function openNode(data: string, name: string, depot: string | undefined, sync: Syncer = fsSyncer): Promise<QemuHost> {
  return QemuHost.open({
    data, server: 'http://127.0.0.1:9', token: 't', imageCacheMiB: 16, bridge: 'vwsbr0', runtime: noProcesses, sync,
    node: { name, cpu: 1, memoryMiB: 512, diskMiB: 1024, transferAddress: '127.0.0.1', migrationAddress: '127.0.0.1' },
    ...(depot ? { depot } : {}),
  });
}

/** A suspended VM's directory on a node, as a suspension leaves it: vm.json, its memory, its scratch disk. */
export function laySuspended(data: string, w: Workload, memoryBytes = 4 << 20): void {
  const dir = join(data, 'vms', vmDirName(w.vm.id));
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, MEMORY_FILE), randomBytes(memoryBytes));
  writeFileSync(join(dir, SCRATCH_FILE), randomBytes(64 << 10));
  writeFileSync(join(dir, 'vm.json'), JSON.stringify({ workload: w, status: { id: w.vm.id, node: w.vm.node, state: 'suspended', ip: null, console: null } }));
}
