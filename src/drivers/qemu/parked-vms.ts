// The driver's book of the VMs parked in depots (at DEPOT_NODE, on no node): which depot each is
// in, what a node's listing of its depot means for them, and which nodes may take one up or
// remove it (only those that share its depot, as their hellos say).

import { DEPOT_NODE, type VmStatus } from '../driver.ts';
import type { AgentHub } from './agent-hub.ts';

export class ParkedVms {
  /** VM id to the id of the depot it is parked in. */
  private readonly depotOf = new Map<string, string>();

  constructor(private readonly hub: Pick<AgentHub, 'connectedNodes' | 'isConnected' | 'report'>, saved: Record<string, string> = {}) {
    for (const [id, depot] of Object.entries(saved)) this.depotOf.set(id, depot);
  }

  saved(): Record<string, string> {
    return Object.fromEntries(this.depotOf);
  }

  park(id: string, depot: string): void {
    this.depotOf.set(id, depot);
  }

  forget(id: string): void {
    this.depotOf.delete(id);
  }

  /**
   * Of the VMs a node lists as parked in `depot`, those the driver must now take as parked. One it
   * has on another node whose agent is connected is that node's (it took it up and tidies the
   * depot); any other is parked: by a node that went before it answered, or before a restart.
   */
  newlyParked(reporter: string, depot: string, listed: VmStatus[], known: (id: string) => VmStatus | undefined): string[] {
    return listed.map((vm) => vm.id).filter((id) => {
      const vm = known(id);
      if (vm && vm.node !== DEPOT_NODE && vm.node !== reporter && this.hub.isConnected(vm.node)) return false;
      return !(vm?.node === DEPOT_NODE && this.depotOf.get(id) === depot);
    });
  }

  /** A connected node that shares the VM's depot, or null. */
  sharing(id: string): string | null {
    const depot = this.depotOf.get(id);
    return this.hub.connectedNodes().find((n) => depot !== undefined && this.hub.report(n)?.depot === depot) ?? null;
  }

  /** Why `node` cannot take the parked VM up, or null. */
  takerProblem(id: string, node: string): string | null {
    const depot = this.depotOf.get(id) ?? '(unknown)';
    if (!this.hub.isConnected(node)) return `is parked in depot ${depot}, and the agent of node '${node}' is not connected to take it up`;
    const there = this.hub.report(node)?.depot;
    if (!there) return `is parked in depot ${depot}, and node '${node}' shares no depot: unpark it on a node whose agent runs with --depot on the same directory`;
    if (there !== depot) return `is parked in depot ${depot}, and node '${node}' shares depot ${there}, another one: unpark it on a node that shares ${depot}`;
    return null;
  }
}
