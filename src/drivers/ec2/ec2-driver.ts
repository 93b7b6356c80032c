// The Driver whose VMs are EC2 instances. Each VM becomes one instance on the EC2 account its
// lease's owner maps to (site-config.ts), of the smallest instance type that fits its shape, from
// the AMI its image maps to, with its seed's user-data. Every instance carries tags naming its
// lease, its workspace and this service, so a restarted service finds its own instances and
// reconciles them with its state file: an instance it does not have is terminated and reported
// (onStray); one it has that EC2 no longer runs is reported failed. Each launch carries a
// ClientToken derived from the workspace and its attempt, saved before the call: a start retried
// after a lost answer or a crash finds or gets the same instance, never a second one. The looking
// at EC2 and the reconciling are reconciliation.ts's; the driver launches, stops and keeps state.
//
// EC2 cannot save a running instance to a file nor carry one to another host: the driver declares
// none of suspendToFile, coldMigration, liveMigration and scratchDisks, and refuses them.

import { createHash, randomUUID } from 'node:crypto';
import { existsSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { type EC2Client, type Instance, RunInstancesCommand } from '@aws-sdk/client-ec2';
import { MOST_CPUS, MOST_MEMORY_MIB } from '../../core/limits.ts';
import type { NodeSpec } from '../../core/types.ts';
import type { Capability } from '../capabilities.ts';
import { type Driver, DriverError, requireCapability, type VmSpec, type VmState, type VmStatus } from '../driver.ts';
import type { DriverContext } from '../plugin.ts';
import { type Charge, ChargeBook, type ChargeRecord } from './charges.ts';
import { Ec2Clients, identityOf } from './ec2-clients.ts';
import { refusalOf } from './ec2-errors.ts';
import type { Ec2Vm } from './ec2-vm.ts';
import { describeAll, LIVE, TAG_LEASE, TAG_NODE, TAG_SERVICE, TAG_WORKSPACE, terminate } from './instances.ts';
import { Reconciler } from './reconciliation.ts';
import { accountFor, type Ec2SiteConfig, type LeaseOwner, typeFor } from './site-config.ts';
import { KeyedQueue } from '../keyed-queue.ts';

export { TAG_LEASE, TAG_NODE, TAG_SERVICE, TAG_WORKSPACE } from './instances.ts';

/** EC2 takes at most 16 KB of user-data (before base64). */
const USER_DATA_LIMIT = 16 * 1024;

type Seeds = NonNullable<DriverContext['seeds']>;

export interface Ec2DriverOptions {
  config: Ec2SiteConfig;
  /** The configuration file's name, for refusals that tell an administrator where to look. */
  configFile?: string;
  /** The driver's state (service id, VMs, attempts, charges), in the service's data directory. */
  stateFile: string;
  /** Who a lease is for (its owner, its group, the owner's groups); null for a lease the service does not have. */
  ownerOf: (leaseId: string) => Promise<LeaseOwner | null>;
  seedFor?: Seeds;
  /** How often an instance changing state (launching, terminating) is looked at again. */
  pollMs?: number;
  /** How often every instance is looked at for changes of its own (0: only when status() is asked). */
  watchMs?: number;
  /** An instance launched this recently and not yet listed by EC2 is not taken for vanished (EC2 lists new instances late). */
  launchGraceSeconds?: number;
  /** Attempts per EC2 call, throttling included (the SDK backs off between them). */
  maxAttempts?: number;
  /** Unix seconds now (charges end then). */
  now?: () => number;
  log?: (line: string) => void;
}

interface SavedState {
  serviceId: string;
  vms: Ec2Vm[];
  /** Per workspace, how many launches it has had: the next one's ClientToken differs. */
  attempts: Record<string, number>;
  charges: ChargeRecord[];
}

export class Ec2Driver implements Driver {
  readonly name = 'ec2';
  readonly capabilities: ReadonlySet<Capability> = new Set<Capability>();
  private readonly state: SavedState;
  private readonly vms = new Map<string, Ec2Vm>();
  private readonly clients: Ec2Clients;
  private readonly queues = new KeyedQueue();
  private readonly listeners: Array<(vm: VmStatus) => void> = [];
  private readonly book: ChargeBook;
  private readonly reconciler: Reconciler;
  private closed = false;
  private readonly pollMs: number;
  private readonly now: () => number;

  constructor(private readonly opts: Ec2DriverOptions) {
    this.clients = new Ec2Clients(opts.config, opts.configFile, opts.maxAttempts ?? 5);
    this.pollMs = opts.pollMs ?? 2000;
    this.now = opts.now ?? (() => Date.now() / 1000);
    this.state = existsSync(opts.stateFile)
      ? (JSON.parse(readFileSync(opts.stateFile, 'utf8')) as SavedState)
      : { serviceId: randomUUID(), vms: [], attempts: {}, charges: [] };
    for (const vm of this.state.vms) this.vms.set(vm.spec.id, vm);
    this.book = new ChargeBook(this.state.charges, this.now);
    this.save();
    this.reconciler = new Reconciler({
      serviceId: this.state.serviceId, vms: this.vms, clients: this.clients, charges: this.book,
      busy: (id) => this.queues.busy(id),
      setStatus: (vm, state, ip, detail) => this.setStatus(vm, state, ip, detail),
      save: () => this.save(),
      ensureOpen: () => this.ensureOpen(),
      fallbackNode: () => this.nodes()[0]!.id,
      now: this.now,
      launchGraceSeconds: opts.launchGraceSeconds ?? 120,
      log: opts.log,
    });
    if (opts.watchMs) this.reconciler.watch(opts.watchMs);
  }

  /** This service's id, as its instances' vws:service tag carries it. */
  get serviceId(): string {
    return this.state.serviceId;
  }

  /**
   * The nodes the back-end offers: per configured zone (else for the region) one node, or with
   * `slots` one per instance that may run at once (a lease's VMs take distinct nodes, so a lease of
   * N VMs needs N slots), each as large as the largest instance type, as the simulator models
   * them; without slots, as large as a node may be; `nodeCapacity` where configured.
   */
  nodes(): NodeSpec[] {
    const { nodeCapacity, slots, instanceTypes } = this.opts.config;
    const largest = { cpu: Math.max(...instanceTypes.map((t) => t.cpu)), memoryMiB: Math.max(...instanceTypes.map((t) => t.memoryMiB)) };
    const capacity = nodeCapacity ?? (slots !== undefined ? largest : { cpu: MOST_CPUS, memoryMiB: MOST_MEMORY_MIB });
    return this.placesByNode().map(([id]) => ({ id, cpu: capacity.cpu, memoryMiB: capacity.memoryMiB, diskMiB: 0 }));
  }

  /** Each node's id and the zone it launches in (null: EC2 places instances in the region). */
  private placesByNode(): Array<[string, string | null]> {
    const { zones, region, slots } = this.opts.config;
    const places: Array<[string, string | null]> = zones ? zones.map((z) => [`ec2-${z}`, z]) : [[`ec2-${region}`, null]];
    if (slots === undefined) return places;
    return places.flatMap(([id, zone]) => Array.from({ length: slots }, (_, k): [string, string | null] => [`${id}-${k + 1}`, zone]));
  }

  /** What EC2 charges for the lease's instances so far (running ones up to now). */
  charges(leaseId: string): Charge[] {
    return this.book.of(leaseId);
  }

  /** A shape no instance type fits, or an image without an AMI, is refused before a lease is accepted. */
  refusesShape(shape: { cpu: number; memoryMiB: number; image: string | null }): string | null {
    const type = typeFor(this.opts.config.instanceTypes, shape.cpu, shape.memoryMiB);
    if (typeof type === 'string') return type;
    if (!shape.image) return 'every EC2 instance boots from an AMI: give the lease an image that the site maps to one';
    if (!Object.hasOwn(this.opts.config.images, shape.image)) return `image '${shape.image}' has no AMI in ${this.opts.configFile ?? 'the EC2 site configuration'}: an administrator maps it under images`;
    return null;
  }

  async prepareImage(node: string, image: string): Promise<void> {
    this.zoneOf(node, image);
    this.amiOf(image, image);
  }

  async start(spec: VmSpec): Promise<VmStatus> {
    if (spec.scratchMiB) requireCapability(this, 'scratchDisks', spec.id, 'start a VM with a scratch disk');
    return this.serialize(spec.id, async () => {
      const known = this.vms.get(spec.id);
      if (known?.status.state === 'running') return { ...known.status };
      if (known && known.status.state !== 'failed' && known.instanceId !== null) return this.untilRunning(known);
      const launch = await this.launchPlan(spec);
      if (known?.status.state === 'failed') await this.forget(known);
      // A launch decided before a crash or a lost answer keeps its token: EC2 (or the look below) gives back its instance.
      const resumed = known !== undefined && known.instanceId === null;
      const attempt = resumed ? known.attempt : (this.state.attempts[spec.id] ?? 0) + 1;
      this.state.attempts[spec.id] = attempt;
      const vm: Ec2Vm = {
        spec: { ...spec }, account: launch.account, attempt, clientToken: this.tokenFor(spec.id, attempt), instanceId: null,
        instanceType: launch.type.name, pricePerHour: launch.type.pricePerHour, launchedAt: this.now(),
        status: { id: spec.id, node: spec.node, state: 'starting', ip: null, console: null },
      };
      this.vms.set(spec.id, vm);
      this.save();
      let instance: Instance;
      try {
        // Only a token sent before can have an instance: a fresh attempt's goes straight to RunInstances.
        instance = (resumed ? await this.launchedBefore(vm) : null) ?? await this.runInstance(vm, launch);
      } catch (e) {
        const refusal = refusalOf(spec.id, 'RunInstances', e);
        // Without an answer the instance may exist: the record and its token stay for the retry.
        if ((e as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode !== undefined || e instanceof DriverError) {
          this.vms.delete(spec.id);
          this.save();
        }
        throw refusal;
      }
      vm.instanceId = instance.InstanceId!;
      // Only now does the VM exist to the service: a launch EC2 refused never seemed to start.
      this.setStatus(vm, 'starting', null, undefined, { announce: true });
      return this.untilRunning(vm);
    });
  }

  /** EC2 terminates an instance the same way either way (an ACPI shutdown first): `graceful` changes nothing. */
  stop(id: string, _opts: { graceful: boolean }): Promise<void> {
    return this.serialize(id, async () => {
      const vm = this.vms.get(id);
      if (!vm) return;
      if (vm.status.state !== 'failed') this.setStatus(vm, 'stopping', null);
      const instanceId = vm.instanceId ?? (await this.launchedBefore(vm))?.InstanceId ?? null;
      if (instanceId) {
        vm.instanceId = instanceId;
        await terminate(this.clients, vm.account, instanceId, id);
        // EC2 stops billing once an instance is shutting down, and it never comes back from there: that is stopped.
        await this.until(vm, instanceId, (i) => i === null || i.State?.Name === 'shutting-down' || i.State?.Name === 'terminated', 'terminated');
      }
      this.book.end(instanceId);
      this.vms.delete(id);
      this.setStatus(vm, 'stopped', null);
    });
  }

  async suspend(id: string): Promise<VmStatus> {
    requireCapability(this, 'suspendToFile', id, 'suspend');
    throw new DriverError(id, 'unreachable');
  }

  async resume(id: string): Promise<VmStatus> {
    requireCapability(this, 'suspendToFile', id, 'resume');
    throw new DriverError(id, 'unreachable');
  }

  async migrate(id: string, _toNode: string): Promise<VmStatus> {
    requireCapability(this, 'coldMigration', id, 'migrate');
    throw new DriverError(id, 'unreachable');
  }

  async liveMigrate(id: string, _toNode: string): Promise<{ status: VmStatus; totalMs: number; downtimeMs: number }> {
    requireCapability(this, 'liveMigration', id, 'migrate live');
    throw new DriverError(id, 'unreachable');
  }

  /** Every VM the driver has, as EC2 shows them now (strays terminated, vanished ones failed). */
  async status(): Promise<VmStatus[]> {
    // EC2 out of reach (or an account's keys refused) must not stop the service: what was last seen stands.
    await this.refresh().catch((e: Error) => this.opts.log?.(`ec2: the instances could not be looked at: ${e.message}`));
    return [...this.vms.values()].map((vm) => ({ ...vm.status })).sort((a, b) => a.id.localeCompare(b.id));
  }

  onChange(listener: (vm: VmStatus) => void): void {
    this.listeners.push(listener);
  }

  onStray(listener: (vm: VmStatus) => void): void {
    this.reconciler.onStray(listener);
  }

  /** Instances run on: the next service finds them by their tags. */
  async close(): Promise<void> {
    this.closed = true;
    this.reconciler.stopWatching();
    await this.queues.idle();
    await this.reconciler.settled();
    this.clients.destroy();
    this.listeners.length = 0;
    this.reconciler.forgetListeners();
  }

  /** Looks at every instance of this service on every configured account and reconciles. */
  refresh(): Promise<void> {
    return this.reconciler.refresh();
  }

  /** Everything a launch needs, or a permanent refusal saying what is missing. */
  private async launchPlan(spec: VmSpec): Promise<{ account: string; client: EC2Client; zone: string | null; ami: string; type: { name: string; pricePerHour: number }; userData: string | null }> {
    const zone = this.zoneOf(spec.node, spec.id);
    if (!spec.image) throw new DriverError(spec.id, 'cannot start on EC2 without an image: every instance boots from an AMI; give the lease an image that the site maps to one', { permanent: true });
    const ami = this.amiOf(spec.image, spec.id);
    const type = typeFor(this.opts.config.instanceTypes, spec.cpu, spec.memoryMiB);
    if (typeof type === 'string') throw new DriverError(spec.id, type, { permanent: true });
    const who = await this.opts.ownerOf(spec.leaseId);
    if (!who) throw new DriverError(spec.id, `lease ${spec.leaseId} is not known to the service: no owner to charge on EC2`, { permanent: true });
    const chosen = accountFor(this.opts.config, who, this.opts.configFile);
    if (typeof chosen === 'string') throw new DriverError(spec.id, chosen, { permanent: true });
    let userData: string | null;
    try {
      userData = (await this.opts.seedFor?.(spec))?.userData ?? null;
    } catch (e) {
      throw new DriverError(spec.id, `its cloud-init user-data could not be made: ${(e as Error).message}`);
    }
    if (userData !== null && Buffer.byteLength(userData) > USER_DATA_LIMIT) {
      throw new DriverError(spec.id, `its user-data is ${Buffer.byteLength(userData)} bytes, more than EC2's ${USER_DATA_LIMIT}: make the lease's user-data smaller`, { permanent: true });
    }
    const account = identityOf(chosen.account);
    return { account, client: this.clients.of(chosen.account), zone, ami, type, userData };
  }

  private runInstance(vm: Ec2Vm, launch: Awaited<ReturnType<Ec2Driver['launchPlan']>>): Promise<Instance> {
    const tags = [
      { Key: TAG_LEASE, Value: vm.spec.leaseId }, { Key: TAG_WORKSPACE, Value: vm.spec.id },
      { Key: TAG_SERVICE, Value: this.serviceId }, { Key: TAG_NODE, Value: vm.spec.node },
    ];
    return launch.client.send(new RunInstancesCommand({
      ImageId: launch.ami, InstanceType: launch.type.name as never, MinCount: 1, MaxCount: 1, ClientToken: vm.clientToken,
      // A guest that powers itself off is done: its instance goes, and stops costing.
      InstanceInitiatedShutdownBehavior: 'terminate',
      ...(launch.zone ? { Placement: { AvailabilityZone: launch.zone } } : {}),
      ...(launch.userData !== null ? { UserData: Buffer.from(launch.userData).toString('base64') } : {}),
      TagSpecifications: [{ ResourceType: 'instance', Tags: tags }],
    })).then((r) => {
      const instance = r.Instances?.[0];
      if (!instance?.InstanceId) throw new DriverError(vm.spec.id, 'EC2 accepted RunInstances but named no instance');
      return instance;
    });
  }

  /** An instance already launched with this VM's token (a launch whose answer was lost), if any. */
  private async launchedBefore(vm: Ec2Vm): Promise<Instance | null> {
    const client = this.clients.byIdentity(vm.account);
    const found = await describeAll(client, [{ Name: `tag:${TAG_WORKSPACE}`, Values: [vm.spec.id] }, { Name: `tag:${TAG_SERVICE}`, Values: [this.serviceId] }])
      .catch((e: unknown) => {
        throw refusalOf(vm.spec.id, 'DescribeInstances', e);
      });
    return found.find((i) => i.ClientToken === vm.clientToken && LIVE.has(i.State?.Name ?? '')) ?? null;
  }

  private async untilRunning(vm: Ec2Vm): Promise<VmStatus> {
    const instance = await this.until(vm, vm.instanceId!, (i) => i === null || i.State?.Name !== 'pending', 'running');
    this.reconciler.judge(vm, instance);
    if (vm.status.state !== 'running') throw new DriverError(vm.spec.id, `instance ${vm.instanceId} did not come up: ${vm.status.detail ?? vm.status.state}`);
    return { ...vm.status };
  }

  /** Polls the instance until `done` holds; null once EC2 does not list it. */
  private async until(vm: Ec2Vm, instanceId: string, done: (i: Instance | null) => boolean, what: string): Promise<Instance | null> {
    const client = this.clients.byIdentity(vm.account);
    for (;;) {
      this.ensureOpen();
      let instance: Instance | null;
      try {
        instance = (await describeAll(client, [], [instanceId]))[0] ?? null;
      } catch (e) {
        if ((e as Error).name !== 'InvalidInstanceID.NotFound') throw refusalOf(vm.spec.id, `DescribeInstances (waiting for ${what})`, e);
        instance = null;
      }
      if (done(instance)) return instance;
      await new Promise((resolve) => setTimeout(resolve, this.pollMs));
    }
  }

  /** A failed VM is replaced by a new launch: its instance, if it still lives, goes first. */
  private async forget(vm: Ec2Vm): Promise<void> {
    if (vm.instanceId) await terminate(this.clients, vm.account, vm.instanceId, vm.spec.id);
    this.book.end(vm.instanceId);
    this.vms.delete(vm.spec.id);
    this.save();
  }

  private setStatus(vm: Ec2Vm, state: VmState, ip: string | null, detail?: string, opts: { announce?: boolean } = {}): void {
    const before = vm.status;
    if (!opts.announce && before.state === state && before.ip === ip && this.vms.has(vm.spec.id)) return;
    vm.status = { id: vm.spec.id, node: vm.spec.node, state, ip, console: null, ...(detail ? { detail } : {}) };
    this.save();
    for (const l of this.listeners) {
      try {
        l({ ...vm.status });
      } catch (err) {
        queueMicrotask(() => {
          throw err;
        });
      }
    }
  }

  private zoneOf(node: string, vmId: string): string | null {
    const place = this.placesByNode().find(([id]) => id === node);
    if (place) return place[1];
    throw new DriverError(vmId, `node '${node}' is not one of the EC2 driver's nodes (${this.nodes().map((n) => n.id).join(', ')})`, { permanent: true });
  }

  private amiOf(image: string, vmId: string): string {
    const ami = Object.hasOwn(this.opts.config.images, image) ? this.opts.config.images[image] : undefined;
    if (!ami) throw new DriverError(vmId, `image '${image}' has no AMI in ${this.opts.configFile ?? 'the EC2 site configuration'}: an administrator maps it under images`, { permanent: true });
    return ami;
  }

  private tokenFor(vmId: string, attempt: number): string {
    return `vws-${createHash('sha256').update(`${this.serviceId}\n${vmId}\n${attempt}`).digest('hex').slice(0, 40)}`;
  }

  private serialize<T>(id: string, op: () => Promise<T>): Promise<T> {
    return this.queues.run(id, op, () => this.ensureOpen());
  }

  private ensureOpen(): void {
    if (this.closed) throw new Error('ec2 driver is closed');
  }

  private save(): void {
    this.state.vms = [...this.vms.values()];
    const tmp = `${this.opts.stateFile}.tmp`;
    writeFileSync(tmp, JSON.stringify(this.state));
    renameSync(tmp, this.opts.stateFile);
  }
}
