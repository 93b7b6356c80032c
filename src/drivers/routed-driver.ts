// One driver over several back-ends' drivers (a pool's and an EC2 region's, say): each VM goes to
// the driver of the back-end its lease lives on, each node's business to the driver of the
// back-end that holds it. The service's reconciler talks to this one and never needs to know.

import type { Capability } from './capabilities.ts';
import type { Driver, VmSpec, VmStatus } from './driver.ts';

export interface Routes {
  /** The back-end holding node `node`, or undefined. */
  backendOfNode(node: string): string | undefined;
  /** The back-end holding the lease of VM `vmId` (`LEASE/K`), or undefined. */
  backendOfVm(vmId: string): string | undefined;
}

export class RoutedDriver implements Driver {
  readonly name: string;
  /** What any of them can do: the service plans per back-end with each one's own (control/driver-fit.ts). */
  readonly capabilities: ReadonlySet<Capability>;
  /** Where each VM was last seen, for one whose lease the service no longer holds (a stray). */
  private readonly seen = new Map<string, string>();

  constructor(private readonly drivers: ReadonlyMap<string, Driver>, private readonly routes: Routes) {
    this.name = [...drivers.values()].map((d) => d.name).join('+');
    this.capabilities = new Set([...drivers.values()].flatMap((d) => [...d.capabilities]));
  }

  prepareImage(node: string, image: string): Promise<void> {
    return this.forNode(node).prepareImage(node, image);
  }

  async start(vm: VmSpec): Promise<VmStatus> {
    const backend = this.backendOfNode(vm.node);
    this.seen.set(vm.id, backend);
    return this.drivers.get(backend)!.start(vm);
  }

  async stop(id: string, opts: { graceful: boolean }): Promise<void> {
    const driver = this.forVm(id);
    // Stopping an id a driver does not know is a no-op there: one nobody placed is asked of every driver.
    if (driver) await driver.stop(id, opts);
    else await Promise.all([...this.drivers.values()].map((d) => d.stop(id, opts)));
  }

  suspend(id: string): Promise<VmStatus> {
    return this.mustFindVm(id).suspend(id);
  }

  resume(id: string): Promise<VmStatus> {
    return this.mustFindVm(id).resume(id);
  }

  migrate(id: string, toNode: string): Promise<VmStatus> {
    return this.mustFindVm(id).migrate(id, toNode);
  }

  liveMigrate(id: string, toNode: string): Promise<{ status: VmStatus; totalMs: number; downtimeMs: number }> {
    return this.mustFindVm(id).liveMigrate(id, toNode);
  }

  async status(): Promise<VmStatus[]> {
    const all: VmStatus[] = [];
    for (const [backend, driver] of this.drivers) {
      for (const vm of await driver.status()) {
        this.seen.set(vm.id, backend);
        all.push(vm);
      }
    }
    return all;
  }

  onChange(listener: (vm: VmStatus) => void): void {
    for (const [backend, driver] of this.drivers) {
      driver.onChange((vm) => {
        this.seen.set(vm.id, backend);
        listener(vm);
      });
    }
  }

  writeOff(node: string, vmIds: readonly string[]): void {
    this.forNode(node).writeOff?.(node, vmIds);
  }

  onStray(listener: (vm: VmStatus) => void): void {
    for (const driver of this.drivers.values()) driver.onStray?.(listener);
  }

  async close(): Promise<void> {
    await Promise.all([...this.drivers.values()].map((d) => d.close()));
  }

  private backendOfNode(node: string): string {
    const backend = this.routes.backendOfNode(node);
    if (backend === undefined || !this.drivers.has(backend)) throw new Error(`internal: node '${node}' belongs to no back-end of this service`);
    return backend;
  }

  private forNode(node: string): Driver {
    return this.drivers.get(this.backendOfNode(node))!;
  }

  private forVm(id: string): Driver | undefined {
    const backend = this.routes.backendOfVm(id) ?? this.seen.get(id);
    return backend === undefined ? undefined : this.drivers.get(backend);
  }

  private mustFindVm(id: string): Driver {
    const driver = this.forVm(id);
    if (!driver) throw new Error(`internal: VM '${id}' belongs to no back-end of this service`);
    return driver;
  }
}
