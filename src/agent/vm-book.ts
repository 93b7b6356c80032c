// The book of a node's VMs as its agent keeps it: each VM's workload, status and process, its
// status written to vm.json in the VM's own directory (durably) at every change and told to the
// listeners. QemuHost (qemu-host.ts) runs the VMs; this keeps the book.

import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { DriverError, type VmState, type VmStatus } from '../drivers/driver.ts';
import { fitText } from '../drivers/qemu/agent-messages.ts';
import type { Timing, Workload } from '../drivers/qemu/protocol.ts';
import type { DepotStep } from './depot-host.ts';
import { heldVm, heldVmIn } from './held-vms.ts';
import { type Syncer, writeDurably } from './durable.ts';
import { vmDirName } from './vm-parts.ts';
import type { IncomingVm, VmProcess } from './vm-runtime.ts';

export interface Held {
  workload: Workload;
  status: VmStatus;
  proc: VmProcess | null;
  incoming?: IncomingVm;
  receiving?: { done: Promise<{ ms: number }>; cancel: () => void };
  bootStarted?: number;
  /** A move to or from the depot under way: what a restarted agent must settle (depot-host.ts). */
  depotStep?: DepotStep;
}

export abstract class VmBook {
  protected readonly vms = new Map<string, Held>();
  protected readonly changeListeners: Array<(vm: VmStatus) => void> = [];
  protected readonly timingListeners: Array<(t: Timing) => void> = [];

  constructor(private readonly data: string, private readonly nodeName: string, protected readonly sync: Syncer) {}

  onChange(listener: (vm: VmStatus) => void): void {
    this.changeListeners.push(listener);
  }

  onTiming(listener: (t: Timing) => void): void {
    this.timingListeners.push(listener);
  }

  protected set(held: Held, state: VmState, detail?: string): VmStatus {
    const live = state === 'running' || state === 'suspending' || state === 'migrating';
    // The detail may quote the guest's console: cut to what the service takes, or the agent would be refused for it.
    held.status = { ...held.status, state, ip: live ? held.status.ip : null, ...(detail ? { detail: fitText(detail) } : {}) };
    if (this.vms.has(held.workload.vm.id)) this.save(held);
    this.emit(held);
    return held.status;
  }

  protected emit(held: Held): void {
    for (const l of this.changeListeners) l(held.status);
  }

  protected timed(t: Timing): void {
    for (const l of this.timingListeners) l(t);
  }

  protected statusOf(w: Workload, state: VmState): VmStatus {
    return { id: w.vm.id, node: this.nodeName, state, ip: null, console: null };
  }

  protected held(id: string): Held {
    return heldVm(this.vms, id, this.nodeName);
  }

  protected inState(id: string, state: VmState, toBe: string): Held {
    return heldVmIn(this.vms, id, this.nodeName, state, toBe);
  }

  protected mustNotHold(id: string): void {
    if (this.vms.has(id)) throw new DriverError(id, `node '${this.nodeName}' already has this VM`);
  }

  protected dirOf(id: string): string {
    return join(this.data, 'vms', vmDirName(id));
  }

  protected save(held: Held): void {
    const file = join(this.dirOf(held.workload.vm.id), 'vm.json');
    if (!existsSync(this.dirOf(held.workload.vm.id))) return;
    // Durable: a suspended VM that a crash turns back into 'suspending' would be dropped at restart.
    writeDurably(file, this.record(held), this.sync);
  }

  /** vm.json: what a restarted agent needs to take the VM up again. */
  protected record(held: Held): string {
    return JSON.stringify({ workload: held.workload, status: held.status, ...(held.depotStep ? { depotStep: held.depotStep } : {}) });
  }
}
