// The VMs the service gave up with a lost node (written off: their leases were moved or failed).
// Should the node come back with them they are strays: the same ids may meanwhile run elsewhere,
// so they are never taken for the VMs of now, and they are stopped on the node once its channel
// is up. The AgentDriver keeps them here, per node.

import type { VmStatus } from '../driver.ts';
import type { AgentHub } from './agent-hub.ts';

export class StrayVms {
  private readonly writtenOff = new Map<string, Set<string>>();
  private readonly stops = new Set<string>();
  /** Written-off VMs a node reported at its hello, before its channel was up to stop them on. */
  private readonly atHello = new Map<string, VmStatus[]>();
  readonly listeners: Array<(vm: VmStatus) => void> = [];

  /** `changed`: the list changed and must be saved. */
  constructor(private readonly hub: Pick<AgentHub, 'call' | 'isConnected'>, private readonly changed: () => void, saved: Record<string, string[]> = {}) {
    for (const [node, ids] of Object.entries(saved)) this.writtenOff.set(node, new Set(ids));
  }

  saved(): Record<string, string[]> {
    return Object.fromEntries([...this.writtenOff].map(([node, ids]) => [node, [...ids]]));
  }

  isWrittenOff(node: string, id: string): boolean {
    return this.writtenOff.get(node)?.has(id) ?? false;
  }

  writeOff(node: string, ids: readonly string[]): void {
    const set = this.writtenOff.get(node) ?? new Set<string>();
    for (const id of ids) set.add(id);
    this.writtenOff.set(node, set);
    this.changed();
  }

  /**
   * Takes the written-off VMs out of a node's report and has them stopped there (once its channel
   * is up: a report at hello comes before). Ids the node no longer has are off the list.
   */
  setApart(node: string, reported: VmStatus[]): VmStatus[] {
    const off = this.writtenOff.get(node);
    if (!off) return reported;
    const strays = reported.filter((vm) => off.has(vm.id));
    for (const id of [...off]) if (!strays.some((vm) => vm.id === id)) off.delete(id);
    if (off.size === 0) this.writtenOff.delete(node);
    this.changed();
    if (this.hub.isConnected(node)) for (const vm of strays) this.stop(node, vm);
    else if (strays.length > 0) this.atHello.set(node, strays);
    return reported.filter((vm) => !off.has(vm.id));
  }

  /** The node's channel is up (after its hello): the written-off VMs its hello reported are stopped. */
  channelUp(node: string): void {
    const strays = this.atHello.get(node) ?? [];
    this.atHello.delete(node);
    for (const vm of strays) if (this.isWrittenOff(node, vm.id)) this.stop(node, vm);
  }

  private stop(node: string, vm: VmStatus): void {
    const key = `${node}\u0000${vm.id}`;
    if (this.stops.has(key)) return;
    this.stops.add(key);
    this.hub.call(node, 'stop', { id: vm.id, graceful: false }, vm.id).then(() => {
      const off = this.writtenOff.get(node);
      off?.delete(vm.id);
      if (off?.size === 0) this.writtenOff.delete(node);
      this.changed();
      for (const l of this.listeners) l({ ...vm, state: 'stopped', ip: null });
    }, () => {
      // Still written off: the node's next report has it stopped again.
    }).finally(() => this.stops.delete(key));
  }
}
