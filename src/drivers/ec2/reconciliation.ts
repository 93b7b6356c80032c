// The EC2 driver's reconciliation with EC2: it lists this service's instances (by their vws:service
// tag) on every configured account and makes the driver's VMs agree with what it finds. An
// instance the service does not have is a stray: it is terminated and reported (onStray). A VM
// whose instance EC2 no longer lists, once past the launch grace, or that ended behind the
// service's back, is failed; one the service was stopping, or whose guest shut itself down, is
// stopped. Charges begin when an instance is first seen running and end when it is seen ending.
//
// The driver hands it what it needs (ReconcileHost) and keeps the VMs, the state file and the
// change events; nothing here imports the driver.

import type { Instance } from '@aws-sdk/client-ec2';
import type { VmState, VmStatus } from '../driver.ts';
import type { ChargeBook } from './charges.ts';
import type { Ec2Clients } from './ec2-clients.ts';
import type { Ec2Vm } from './ec2-vm.ts';
import { addressOf, describeAll, LIVE, TAG_NODE, TAG_SERVICE, TAG_WORKSPACE, tagsOf, terminate } from './instances.ts';

export interface ReconcileHost {
  readonly serviceId: string;
  /** The driver's own VMs by id: reconciling fills in instance ids and removes VMs seen stopped. */
  readonly vms: Map<string, Ec2Vm>;
  readonly clients: Pick<Ec2Clients, 'all' | 'byIdentity'>;
  readonly charges: ChargeBook;
  /** Whether an operation on the VM is under way: then it, not reconciliation, decides the VM's fate. */
  busy(vmId: string): boolean;
  /** Records and announces a VM's new status (the driver's change events). */
  setStatus(vm: Ec2Vm, state: VmState, ip: string | null, detail?: string): void;
  /** Writes the driver's state file. */
  save(): void;
  /** Throws once the driver is closed. */
  ensureOpen(): void;
  /** The node a stray without a vws:node tag is reported on. */
  fallbackNode(): string;
  /** Unix seconds now. */
  now(): number;
  /** An instance launched this recently and not yet listed by EC2 is not taken for vanished (EC2 lists new instances late). */
  readonly launchGraceSeconds: number;
  log?: (line: string) => void;
}

export class Reconciler {
  private readonly strayListeners: Array<(vm: VmStatus) => void> = [];
  /** Strays found before anyone listened. */
  private readonly unreportedStrays: VmStatus[] = [];
  private watcher: NodeJS.Timeout | null = null;
  private refreshing: Promise<void> | null = null;

  constructor(private readonly host: ReconcileHost) {}

  /** Looks at every instance every `everyMs`, so changes EC2 makes on its own are seen without status() being asked. */
  watch(everyMs: number): void {
    this.watcher = setInterval(() => void this.refresh().catch((e: Error) => this.host.log?.(`ec2: looking at the instances failed: ${e.message}`)), everyMs);
    this.watcher.unref();
  }

  stopWatching(): void {
    if (this.watcher) clearInterval(this.watcher);
  }

  /** Looks at every instance of this service on every configured account and reconciles; one look at a time. */
  refresh(): Promise<void> {
    this.refreshing ??= this.reconcile().finally(() => (this.refreshing = null));
    return this.refreshing;
  }

  /** Once the look under way (if any) has ended, however it ended. */
  async settled(): Promise<void> {
    await this.refreshing?.catch(() => undefined);
  }

  onStray(listener: (vm: VmStatus) => void): void {
    this.strayListeners.push(listener);
    for (const vm of this.unreportedStrays.splice(0)) listener(vm);
  }

  forgetListeners(): void {
    this.strayListeners.length = 0;
  }

  /** A VM's instance as EC2 shows it, or null if EC2 no longer lists it: what the VM is now. */
  judge(vm: Ec2Vm, instance: Instance | null): void {
    const { host } = this;
    if (vm.status.state === 'failed') return;
    const state = instance?.State?.Name;
    if (instance && (state === 'pending' || state === 'running')) {
      const next: VmState = state === 'running' ? 'running' : 'starting';
      if (next === 'running') host.charges.begin({ leaseId: vm.spec.leaseId, vmId: vm.spec.id, instanceType: vm.instanceType, pricePerHour: vm.pricePerHour }, instance);
      host.setStatus(vm, next, next === 'running' ? addressOf(instance) : null);
      return;
    }
    if (!instance && host.now() - vm.launchedAt < host.launchGraceSeconds) return;
    if (vm.status.state === 'stopping' && state !== 'stopping' && state !== 'stopped') {
      // The service's own termination, whose end a crash or a failed call kept it from seeing.
      host.charges.end(vm.instanceId);
      host.vms.delete(vm.spec.id);
      host.setStatus(vm, 'stopped', null);
      return;
    }
    const reason = instance?.StateReason?.Message ?? instance?.StateTransitionReason;
    if (instance?.StateReason?.Code === 'Client.InstanceInitiatedShutdown') {
      host.charges.end(vm.instanceId);
      host.vms.delete(vm.spec.id);
      host.setStatus(vm, 'stopped', null, `the guest shut itself down (instance ${vm.instanceId} terminated)`);
      return;
    }
    if (instance && (state === 'stopping' || state === 'stopped')) {
      host.setStatus(vm, 'failed', null, `instance ${vm.instanceId} was stopped outside vws (${reason ?? 'no reason given'}); vws does not start stopped instances`);
      return;
    }
    host.charges.end(vm.instanceId);
    const what = instance ? `was ${state} behind the service's back (EC2: ${reason ?? 'no reason given'})` : 'vanished: EC2 no longer lists it';
    host.setStatus(vm, 'failed', null, `instance ${vm.instanceId ?? `with ClientToken ${vm.clientToken}`} ${what}`);
  }

  private async reconcile(): Promise<void> {
    const { host } = this;
    host.ensureOpen();
    const seen = new Map<string, { instance: Instance; account: string }>();
    const unreachable = new Map<string, string>();
    for (const [account, client] of host.clients.all()) {
      try {
        for (const instance of await describeAll(client, [{ Name: `tag:${TAG_SERVICE}`, Values: [host.serviceId] }])) seen.set(instance.InstanceId!, { instance, account });
      } catch (e) {
        unreachable.set(account, (e as Error).message);
      }
    }
    const mine = new Set<string>();
    for (const vm of host.vms.values()) {
      // An account whose instances could not be listed says nothing of them: its VMs are as last seen.
      if (unreachable.has(vm.account)) continue;
      if (host.busy(vm.spec.id)) {
        // An operation under way decides this VM's fate; its instance is not a stray.
        if (vm.instanceId) mine.add(vm.instanceId);
        for (const { instance } of seen.values()) if (instance.ClientToken === vm.clientToken) mine.add(instance.InstanceId!);
        continue;
      }
      const found = vm.instanceId ? seen.get(vm.instanceId)?.instance : [...seen.values()].find((s) => s.instance.ClientToken === vm.clientToken)?.instance;
      if (found) {
        mine.add(found.InstanceId!);
        vm.instanceId = found.InstanceId!;
      }
      this.judge(vm, found ?? null);
    }
    for (const { instance, account } of seen.values()) {
      if (mine.has(instance.InstanceId!) || !LIVE.has(instance.State?.Name ?? '')) continue;
      await this.terminateStray(account, instance);
    }
    host.save();
    if (unreachable.size > 0) throw new Error([...unreachable].map(([account, why]) => `account ${account}: ${why}`).join('; '));
  }

  private async terminateStray(account: string, instance: Instance): Promise<void> {
    const tags = tagsOf(instance);
    const id = tags[TAG_WORKSPACE] ?? instance.InstanceId!;
    await terminate(this.host.clients, account, instance.InstanceId!, id);
    this.host.log?.(`ec2: terminated stray instance ${instance.InstanceId} (workspace ${id}): this service does not have it`);
    const stray: VmStatus = { id, node: tags[TAG_NODE] ?? this.host.fallbackNode(), state: 'stopped', ip: null, console: null, detail: `instance ${instance.InstanceId} terminated: a stray (this service has no such VM)` };
    if (this.strayListeners.length === 0) this.unreportedStrays.push(stray);
    for (const l of this.strayListeners) l(stray);
  }
}
