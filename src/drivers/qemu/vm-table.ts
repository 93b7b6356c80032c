// The VMs the agents last reported, by id, with an index by node: a node's report is checked
// against that node's VMs alone (against every VM, 2,000 reports of a 20,000-VM pool were forty
// million comparisons a pass).

import type { VmStatus } from '../driver.ts';

export class VmTable extends Map<string, VmStatus> {
  private readonly byNode = new Map<string, Set<string>>();

  override set(id: string, vm: VmStatus): this {
    const before = super.get(id);
    if (before && before.node !== vm.node) this.unindex(id, before.node);
    super.set(id, vm);
    let on = this.byNode.get(vm.node);
    if (!on) this.byNode.set(vm.node, (on = new Set()));
    on.add(id);
    return this;
  }

  override delete(id: string): boolean {
    const before = super.get(id);
    if (before) this.unindex(id, before.node);
    return super.delete(id);
  }

  override clear(): void {
    this.byNode.clear();
    super.clear();
  }

  /** The VMs last reported on `node`. */
  onNode(node: string): VmStatus[] {
    return [...(this.byNode.get(node) ?? [])].map((id) => super.get(id)!);
  }

  private unindex(id: string, node: string): void {
    const on = this.byNode.get(node);
    on?.delete(id);
    if (on?.size === 0) this.byNode.delete(node);
  }
}
