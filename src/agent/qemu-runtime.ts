// The agent's VMs as QEMU processes (src/agent/qemu), in the terms the host uses (vm-runtime.ts).

import { adoptVm, bootVm, receiveVm, restoreVm } from './qemu/qemu-vm.ts';
import type { VmRuntime } from './vm-runtime.ts';

export const qemuRuntime: VmRuntime = {
  boot: bootVm,
  restore: restoreVm,
  receive: receiveVm,
  adopt: adoptVm,
};
