// Brings the VMs a driver runs in line with what the scheduler wants of each lease: the scheduler
// says what each VM should be doing (lease-view.ts); this compares it with what the driver
// reports and issues the operations that close the gap. It works from the difference, not from
// a list of steps, so that it is the same code after a crash as in normal running.

import { createHash } from 'node:crypto';
import type { LeaseRecord } from '../core/lease-record.ts';
import type { ImageRef, NetworkName, Resources } from '../core/types.ts';
import type { EventRow, Store, WorkspaceRow, WorkspaceStatus } from '../store/store.ts';
import { DEPOT_NODE, type Driver, type VmSpec, type VmState, type VmStatus } from '../drivers/driver.ts';
import { limitsOf } from '../drivers/leased-limits.ts';
import { type DesiredVm, desiredVms } from './lease-view.ts';
import type { Clock } from './clock.ts';
import { memberAt, workspaceNaming } from './workspace-names.ts';
import { DEFAULT_RETRY, driverCall, DriverCallFailed, Retries, type RetryPolicy } from './driver-retry.ts';

export interface ReconcilerHooks {
  leaseById(id: string): LeaseRecord | undefined;
  nodeId(index: number): string;
  /** A VM stopped or failed without being told to. */
  vmEndedByItself(leaseId: string, detail: { failed: boolean; message: string }): void;
  /** A live migration failed and the VM runs on where it was, on `from`. */
  migrationFailed(leaseId: string, vm: { index: number; from: string }): void;
  event(e: Omit<EventRow, 'id'>): void;
}

const WORKSPACE_STATUS: Record<VmState, WorkspaceStatus> = {
  starting: 'deploying', running: 'running', suspending: 'suspending', suspended: 'suspended', resuming: 'resuming',
  migrating: 'resuming', stopping: 'stopping', stopped: 'stopped', failed: 'failed',
};

/** A stable MAC address in the locally administered range, from the VM's id. */
export function macOf(vmId: string): string {
  const h = createHash('sha256').update(vmId).digest();
  return ['52', '54', '00', h[0], h[1], h[2]].map((x) => (typeof x === 'string' ? x : x.toString(16).padStart(2, '0'))).join(':');
}

export const vmIdOf = (leaseId: string, index: number): string => `${leaseId}/${index}`;

/** The lease and index a VM id stands for (the inverse of vmIdOf). */
function partsOfVm(vmId: string): { leaseId: string; index: number } {
  const slash = vmId.lastIndexOf('/');
  return { leaseId: vmId.slice(0, slash), index: Number(vmId.slice(slash + 1)) };
}

/** A VM's own shape, image and networks: its role's, for a cluster's VM (workspace k is member k). */
function shapeOfVm(lease: LeaseRecord, index: number): { perNode: Resources; image?: ImageRef; networks?: readonly NetworkName[] } {
  const m = lease.req.roles ? memberAt(lease.req.roles, index) : null;
  return (m && lease.req.roles!.find((r) => r.name === m.role)) || lease.req;
}

export class Reconciler {
  private readonly actual = new Map<string, VmStatus>();
  /** VMs being stopped on purpose: their 'stopped' is not a lease ending by itself. */
  private readonly stopping = new Set<string>();
  /**
   * VMs written off with a lost node: that one of them is gone is known and dealt with (its lease
   * was moved or failed), not a VM that vanished. Until the id is heard of again.
   */
  private readonly writtenOff = new Set<string>();
  private readonly jobs = new Map<string, Promise<void>>();
  private readonly unwritten = new Map<string, WorkspaceRow>();
  private rowsRefreshed = false;
  /** How many times each VM's row has failed to be written in a row. */
  private readonly writeFailures = new Map<string, number>();
  private writing: Promise<void> | null = null;
  private readonly strayStops = new Set<Promise<void>>();
  /** Once the service closes, the driver's news is no longer ours to act on. */
  private detached = false;
  private readonly retries: Retries;
  /** The service's clock: what a workspace row or event says the time was is the time its leases' rows say. */
  private readonly clock: Clock;

  constructor(private readonly driver: Driver, private readonly store: Store, private readonly hooks: ReconcilerHooks, opts: { clock: Clock; retry?: Partial<RetryPolicy> }) {
    this.clock = opts.clock;
    this.retries = new Retries(opts.clock, { ...DEFAULT_RETRY, ...opts.retry });
    driver.onChange((vm) => this.heard(vm));
    driver.onStray?.((vm) => {
      if (this.detached) return;
      this.hooks.event({ time: this.clock.now(), type: 'workspace.stray', leaseId: null, owner: null, group: null, data: { vm: vm.id, node: vm.node, stopped: true } });
    });
  }

  /**
   * The node is lost: what ran there is gone for the service's purposes. Its VMs are forgotten
   * (the driver stops them should the node come back with them) and their workspaces shown failed.
   */
  writeOff(node: string): void {
    const lost = [...this.actual.values()].filter((vm) => vm.node === node && vm.state !== 'stopped');
    for (const vm of lost) {
      this.actual.delete(vm.id);
      this.writtenOff.add(vm.id);
      const { leaseId, index } = partsOfVm(vm.id);
      const lease = this.hooks.leaseById(leaseId);
      if (lease) this.keep({ leaseId, index, node, status: 'failed', mac: macOf(vm.id), ip: null, image: shapeOfVm(lease, index).image?.id ?? null, console: null, updatedAt: this.clock.now(), ...workspaceNaming(leaseId, index, lease.req.roles) });
    }
    this.driver.writeOff?.(node, lost.map((vm) => vm.id));
  }

  /** Learns what the driver runs, before anything is reconciled against it. */
  async observe(): Promise<void> {
    for (const vm of await this.driver.status()) this.actual.set(vm.id, vm);
  }

  /** Reconciles every lease against everything the driver runs; VMs no lease wants are stopped. */
  async reconcileAll(leases: readonly LeaseRecord[]): Promise<void> {
    await this.observe();
    const touched = new Set(leases.filter((l) => desiredVms(l).some((d) => d.state !== 'absent')).map((l) => l.req.id));
    if (!this.rowsRefreshed) await this.refreshRows();
    this.rowsRefreshed = true;
    this.takeOrStop([...this.actual.values()], touched);
    for (const id of touched) this.schedule(id);
    await this.idle();
  }

  /**
   * Reconciles the leases with a VM on one of `nodes` or wanted there, against what the driver
   * last heard of them (an agent's hello reports its node): VMs there that no lease wants are stopped.
   */
  async reconcileNodes(leases: readonly LeaseRecord[], nodes: ReadonlySet<string>): Promise<void> {
    const touched = new Set<string>();
    for (const l of leases) if (desiredVms(l).some((d) => d.state !== 'absent' && nodes.has(this.hooks.nodeId(d.node)))) touched.add(l.req.id);
    this.takeOrStop([...this.actual.values()].filter((vm) => nodes.has(vm.node)), touched);
    for (const id of touched) this.schedule(id);
    await this.idle();
  }

  /** A VM of a lease puts its lease among those to converge; one of no lease is stopped. */
  private takeOrStop(vms: readonly VmStatus[], touched: Set<string>): void {
    for (const vm of vms) {
      const { leaseId } = partsOfVm(vm.id);
      if (this.hooks.leaseById(leaseId)) touched.add(leaseId);
      else if (vm.state !== 'stopped') {
        this.hooks.event({ time: this.clock.now(), type: 'workspace.unknown', leaseId: null, owner: null, group: null, data: { vm: vm.id, node: vm.node, state: vm.state } });
        this.stopUnknown(vm);
      }
    }
  }

  /**
   * A service that died between a VM's change and its row's write left the row behind (a VM
   * running, its workspace 'deploying' for good): at start, each row that says otherwise than its
   * VM is written as the VM is. Read node by node, not lease by lease: a pool has far fewer.
   */
  private async refreshRows(): Promise<void> {
    const byNode = new Map<string, VmStatus[]>();
    for (const vm of this.actual.values()) {
      const on = byNode.get(vm.node);
      if (on) on.push(vm);
      else byNode.set(vm.node, [vm]);
    }
    for (const [node, vms] of byNode) {
      const rows = new Map((await this.store.workspacesOn(node)).map((w) => [vmIdOf(w.leaseId, w.index), w]));
      for (const vm of vms) {
        const { leaseId, index } = partsOfVm(vm.id);
        const lease = this.hooks.leaseById(leaseId);
        const row = rows.get(vm.id);
        if (lease && (!row || row.status !== WORKSPACE_STATUS[vm.state] || row.ip !== vm.ip)) this.keepRow(vm, lease, index);
      }
    }
  }

  /** Has these leases' VMs converged, in the background, one lease at a time. */
  reconcile(leases: readonly LeaseRecord[]): void {
    for (const l of leases) this.schedule(l.req.id);
  }

  detach(): void {
    this.detached = true;
    this.retries.clearAll();
  }

  /** A lease is converging, workspace rows wait to be written, or a VM no lease wants is stopping. */
  get busy(): boolean {
    return this.jobs.size > 0 || this.writing !== null || this.strayStops.size > 0;
  }

  /** Resolves once nothing is under way, the stops of unwanted VMs included (idle() lets those run on). */
  async settled(): Promise<void> {
    while (this.busy) await Promise.all([...this.jobs.values(), this.writing, ...this.strayStops]);
  }

  async idle(): Promise<void> {
    while (this.jobs.size > 0 || this.writing) await Promise.all([...this.jobs.values(), this.writing]);
  }

  private schedule(leaseId: string): void {
    const previous = this.jobs.get(leaseId) ?? Promise.resolve();
    const job = previous.then(() => this.converge(leaseId)).then(() => this.retries.clear(leaseId), (e: Error) => this.failed(leaseId, e));
    this.jobs.set(leaseId, job);
    void job.then(() => {
      if (this.jobs.get(leaseId) === job) this.jobs.delete(leaseId);
    });
  }

  private async converge(leaseId: string): Promise<void> {
    const lease = this.hooks.leaseById(leaseId);
    if (!lease) return;
    // Each pass does at most one operation per VM and looks again: the scheduler may have moved on meanwhile.
    for (let pass = 0; pass < 6; pass++) {
      const desired = desiredVms(lease);
      const steps = await Promise.all(desired.map((d, i) => this.step(lease, i, d)));
      if (steps.every((did) => !did)) return;
    }
  }

  /** One operation towards what VM i should be doing; false when there is nothing to do. */
  private async step(lease: LeaseRecord, i: number, desired: DesiredVm): Promise<boolean> {
    const id = vmIdOf(lease.req.id, i);
    const actual = this.actual.get(id);
    const live = actual && actual.state !== 'stopped';
    if (desired.state === 'absent') {
      if (!live) return false;
      this.stopping.add(id);
      try {
        await driverCall('stop', id, actual.node, () => this.driver.stop(id, { graceful: actual.state === 'running' }));
      } finally {
        this.stopping.delete(id);
      }
      this.heard({ ...actual, state: 'stopped' });
      return true;
    }
    const node = this.hooks.nodeId(desired.node);
    if (!live) {
      if (desired.state === 'suspended') {
        this.hooks.vmEndedByItself(lease.req.id, { failed: true, message: `the saved state of ${id} is gone from ${node}` });
        return false;
      }
      // A VM the store last saw alive has vanished (its node lost it while the service was away): that is a failure, not a start.
      const seen = (await this.store.workspacesOf(lease.req.id)).find((w) => w.index === i);
      if (seen && ['running', 'suspending', 'suspended', 'resuming'].includes(seen.status) && !actual && !this.writtenOff.has(id)) {
        this.hooks.vmEndedByItself(lease.req.id, { failed: true, message: `${id} vanished from ${seen.node ?? node}` });
        return false;
      }
      const spec = this.specOf(lease, i, node);
      this.heard(await driverCall('start', id, node, async () => {
        if (spec.image) await this.driver.prepareImage(node, spec.image);
        return this.driver.start(spec);
      }));
      return true;
    }
    if (actual.state === 'failed') {
      // A VM that failed while the service was away (found failed as it came back): nobody heard it fail.
      this.hooks.vmEndedByItself(lease.req.id, { failed: true, message: actual.detail ?? `${id} failed on ${actual.node}` });
      return false;
    }
    if (actual.state !== 'running' && actual.state !== 'suspended') return false;
    if (actual.state === 'running' && desired.state === 'running' && actual.node !== node && this.driver.capabilities.has('liveMigration')) {
      const from = actual.node;
      const moved = await driverCall('liveMigrate', id, from, () => this.driver.liveMigrate(id, node)).catch((e: unknown) => {
        // The driver keeps the VM where it was when it can: the scheduler must then learn that it runs there.
        const back = this.actual.get(id);
        if (back?.state === 'running' && back.node === from) {
          this.hooks.migrationFailed(lease.req.id, { index: i, from });
          // The scheduler moves the lease back to where it runs; a retry racing it would move the VM away again.
          if (e instanceof DriverCallFailed) e.settledElsewhere = true;
        }
        throw e;
      });
      this.heard(moved.status);
      this.hooks.event({ time: this.clock.now(), type: 'workspace.migrated', leaseId: lease.req.id, owner: null, group: null, data: { vm: id, from, to: node, live: true, totalMs: moved.totalMs, downtimeMs: moved.downtimeMs } });
      return true;
    }
    if (actual.state === 'running' && (desired.state === 'suspended' || actual.node !== node)) {
      this.heard(await driverCall('suspend', id, actual.node, () => this.driver.suspend(id)));
      return true;
    }
    // A VM parked in a depot stays there while its lease waits: it leaves when a migration or a resume is planned for it.
    if (actual.state === 'suspended' && actual.node !== node && !(actual.node === DEPOT_NODE && desired.state === 'suspended' && !desired.moving)) {
      this.heard(await driverCall('migrate', id, actual.node, () => this.driver.migrate(id, node)));
      return true;
    }
    if (actual.state === 'suspended' && desired.state === 'running') {
      this.heard(await driverCall('resume', id, actual.node, () => this.driver.resume(id)));
      return true;
    }
    return false;
  }

  private specOf(lease: LeaseRecord, index: number, node: string): VmSpec {
    const id = vmIdOf(lease.req.id, index);
    const shape = shapeOfVm(lease, index);
    // A cluster member's networks are its role's: the driver gives it the private NIC and cluster network they name.
    const networks = shape.networks ? { networks: [...shape.networks] } : {};
    return { id, leaseId: lease.req.id, index, node, cpu: shape.perNode.cpu, memoryMiB: shape.perNode.memoryMiB, image: shape.image?.id ?? null, mac: macOf(id), scratchMiB: shape.perNode.diskMiB, ...limitsOf(shape.perNode), ...networks };
  }

  private heard(vm: VmStatus): void {
    if (this.detached) return;
    this.writtenOff.delete(vm.id);
    const before = this.actual.get(vm.id);
    this.actual.set(vm.id, vm);
    const { leaseId, index } = partsOfVm(vm.id);
    const lease = this.hooks.leaseById(leaseId);
    if (lease) this.keepRow(vm, lease, index);
    const endedAlone = (vm.state === 'stopped' || vm.state === 'failed') && before?.state !== vm.state && !this.stopping.has(vm.id);
    if (endedAlone && lease) {
      const wanted = desiredVms(lease)[index];
      if (wanted && wanted.state !== 'absent') this.hooks.vmEndedByItself(leaseId, { failed: vm.state === 'failed', message: vm.detail ?? `${vm.id} ${vm.state} by itself` });
    }
  }

  private keepRow(vm: VmStatus, lease: LeaseRecord, index: number): void {
    this.keep({
      leaseId: lease.req.id, index, node: vm.node, status: WORKSPACE_STATUS[vm.state], mac: macOf(vm.id), ip: vm.ip,
      image: shapeOfVm(lease, index).image?.id ?? null, console: vm.console, updatedAt: this.clock.now(),
      ...workspaceNaming(lease.req.id, index, lease.req.roles),
    });
  }

  /** Workspace rows are written in batches, one transaction for all the changes heard meanwhile. */
  private keep(row: WorkspaceRow): void {
    this.unwritten.set(`${row.leaseId}/${row.index}`, row);
    if (this.writing) return;
    this.writing = new Promise<void>((resolve) => setImmediate(resolve)).then(async () => {
      const rows = [...this.unwritten.values()];
      this.unwritten.clear();
      try {
        await this.store.transaction(async () => {
          for (const r of rows) await this.store.putWorkspace(r);
        });
        for (const r of rows) this.writeFailures.delete(`${r.leaseId}/${r.index}`);
      } catch (e) {
        // Tried again a second later (twice at most), unless a newer row of the same VM came
        // meanwhile: a VM heard before its lease's row was committed (a hello's pass during a
        // batch) fails the lease's foreign key for a moment only, and a store may come back.
        for (const r of rows) {
          const k = `${r.leaseId}/${r.index}`;
          const failures = (this.writeFailures.get(k) ?? 0) + 1;
          if (failures > 2 || this.unwritten.has(k)) this.writeFailures.delete(k);
          else {
            this.writeFailures.set(k, failures);
            this.unwritten.set(k, r);
          }
        }
        if (!this.detached && this.unwritten.size > 0) await new Promise((resolve) => setTimeout(resolve, 1000).unref());
        throw e;
      }
    }).catch((e: Error) => this.report(null, e)).finally(() => {
      this.writing = null;
      if (this.unwritten.size > 0) this.keep(this.unwritten.values().next().value!);
    });
  }

  private stopUnknown(vm: VmStatus): void {
    this.stopping.add(vm.id);
    // A stop that fails (its node went away meanwhile) is reported, not left to reject unheard, which would end the process.
    const stopped = this.driver.stop(vm.id, { graceful: false }).catch((e: Error) => this.report(null, e)).finally(() => {
      this.stopping.delete(vm.id);
      this.actual.delete(vm.id);
    });
    this.strayStops.add(stopped);
    void stopped.finally(() => this.strayStops.delete(stopped));
  }

  /** The owner hears of each failure; the lease is tried again later, failed, or its node flagged to admins. */
  private failed(leaseId: string, e: Error): void {
    this.report(leaseId, e);
    const lease = this.hooks.leaseById(leaseId);
    if (this.detached || !lease || (e instanceof DriverCallFailed && e.settledElsewhere)) return this.retries.clear(leaseId);
    const failures = this.retries.failed(leaseId, JSON.stringify(desiredVms(lease)), () => this.schedule(leaseId));
    if (!(e instanceof DriverCallFailed)) return;
    if (e.givesUp && e.permanent) {
      this.retries.clear(leaseId);
      this.hooks.vmEndedByItself(leaseId, { failed: true, message: `the driver refused to ${e.operation} ${e.vm} on ${e.node}, for good: ${e.message}` });
      return;
    }
    if (failures !== this.retries.policy.maxFailures) return;
    if (e.givesUp) {
      this.retries.clear(leaseId);
      this.hooks.vmEndedByItself(leaseId, { failed: true, message: `the driver refused to ${e.operation} ${e.vm} on ${e.node} ${failures} times: ${e.message}` });
      return;
    }
    // Admin-only (no lease id, so no owner): the node needs a look, and the retries go on meanwhile.
    this.hooks.event({
      time: this.clock.now(), type: 'node.operation-failing', leaseId: null, owner: null, group: null,
      data: { node: e.node, lease: leaseId, vm: e.vm, operation: e.operation, failures, message: e.message, retrying: true },
    });
  }

  private report(leaseId: string | null, e: Error): void {
    this.hooks.event({ time: this.clock.now(), type: 'workspace.error', leaseId, owner: null, group: null, data: { message: e.message } });
  }
}
