// VMs with no processes behind them, so the service can run anywhere (a laptop, CI, a demo). Each
// operation spends a real delay in its transitional state, so the control loop meets the same
// in-between states, orderings and races it would meet with real hypervisors.

import { appendFileSync, existsSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { ALL_CAPABILITIES, type Capability, capabilitySet } from '../capabilities.ts';
import { DriverError, type Driver, requireCapability, type VmSpec, type VmState, type VmStatus } from '../driver.ts';
import { KeyedQueue } from '../keyed-queue.ts';
import { limitsProblem } from '../leased-limits.ts';

export interface SimulatedDelays {
  start: number;
  stop: number;
  suspend: number;
  resume: number;
  migrate: number;
  prepareImage: number;
}

export interface SimulatedDriverOptions {
  delaysMs?: Partial<SimulatedDelays>;
  /** Where the VM table survives restarts of the service (the VMs "keep running" meanwhile). */
  stateFile?: string;
  /** What it pretends to be able to do (all capabilities by default): fewer stand in for a back-end that cannot, such as EC2. */
  capabilities?: readonly Capability[];
}

const DEFAULT_DELAYS: SimulatedDelays = { start: 50, stop: 20, suspend: 30, resume: 30, migrate: 40, prepareImage: 10 };

interface SimVm {
  spec: VmSpec;
  status: VmStatus;
  /** Kept while migrating, so that a reload can finish the move. */
  toNode?: string;
  /** A live migration: the VM arrives running. */
  live?: boolean;
}

interface PendingDelay {
  timer: NodeJS.Timeout;
  reject: (err: Error) => void;
}

type GuardedOp = 'start' | 'suspend' | 'resume' | 'migrate' | 'liveMigrate' | 'fail' | 'exit';

const LEGAL_FROM: Record<GuardedOp, readonly VmState[]> = {
  start: ['stopped', 'failed'],
  suspend: ['running'],
  resume: ['suspended'],
  migrate: ['suspended'],
  liveMigrate: ['running'],
  fail: ['running'],
  exit: ['running'],
};

const MAC_PATTERN = /^[0-9a-f]{2}([:-][0-9a-f]{2}){5}$/i;

/** 10.x.y.z from the MAC's last three bytes: stable across restarts and distinct per MAC suffix. */
function ipFromMac(mac: string): string {
  const bytes = mac.split(/[:-]/).slice(3).map((h) => parseInt(h, 16));
  return `10.${bytes.join('.')}`;
}

function sameSpec(a: VmSpec, b: VmSpec): boolean {
  return a.id === b.id && a.leaseId === b.leaseId && a.index === b.index && a.node === b.node && a.cpu === b.cpu
    && a.memoryMiB === b.memoryMiB && a.image === b.image && a.mac.toLowerCase() === b.mac.toLowerCase();
}

export class SimulatedDriver implements Driver {
  readonly name = 'simulated';
  readonly capabilities: ReadonlySet<Capability>;
  private readonly delays: SimulatedDelays;
  private readonly stateFile: string | undefined;
  private readonly vms = new Map<string, SimVm>();
  /** The tail of each VM's queue of operations: one operation at a time per VM, in call order. */
  private readonly queues = new KeyedQueue();
  private readonly listeners: Array<(vm: VmStatus) => void> = [];
  private readonly pending = new Set<PendingDelay>();
  private readonly cachedImages = new Set<string>();
  private closed = false;

  constructor(options: SimulatedDriverOptions = {}) {
    this.delays = { ...DEFAULT_DELAYS, ...options.delaysMs };
    this.stateFile = options.stateFile;
    this.capabilities = capabilitySet(options.capabilities ?? ALL_CAPABILITIES);
    if (this.stateFile) this.load(this.stateFile);
  }

  async prepareImage(node: string, image: string): Promise<void> {
    this.ensureOpen();
    const key = `${node}\n${image}`;
    if (this.cachedImages.has(key)) return;
    await this.sleep(this.delays.prepareImage);
    this.cachedImages.add(key);
  }

  async start(spec: VmSpec): Promise<VmStatus> {
    if (spec.scratchMiB) requireCapability(this, 'scratchDisks', spec.id, 'start a VM with a scratch disk');
    // The limits are kept with the VM as given (there is nothing to shape); out of bounds, refused as a real node refuses them.
    const wrongLimit = this.capabilities.has('enforceLimits') ? limitsProblem(spec, 'vm') : null;
    if (wrongLimit) throw new DriverError(spec.id, `cannot start: ${wrongLimit}`, { permanent: true });
    return this.serialize(spec.id, async () => {
      if (!MAC_PATTERN.test(spec.mac)) throw new DriverError(spec.id, `cannot start: MAC address '${spec.mac}' is malformed`);
      const vm = this.vms.get(spec.id);
      if (vm?.status.state === 'running' && sameSpec(vm.spec, spec)) return { ...vm.status };
      if (vm?.status.state === 'running') throw new DriverError(spec.id, `cannot start: already running with a different spec (on ${vm.status.node}); stop it first`);
      if (vm) this.requireState(spec.id, vm, 'start');
      const fresh: SimVm = { spec: { ...spec }, status: { id: spec.id, node: spec.node, state: 'starting', ip: null, console: null } };
      this.vms.set(spec.id, fresh);
      return this.transition(fresh, 'starting', this.delays.start);
    });
  }

  /** With no guest to ask, a graceful stop and a forced one are alike: both take the stop delay. */
  stop(id: string, _opts: { graceful: boolean }): Promise<void> {
    return this.serialize(id, async () => {
      const vm = this.vms.get(id);
      if (vm) await this.transition(vm, 'stopping', this.delays.stop);
    });
  }

  async suspend(id: string): Promise<VmStatus> {
    requireCapability(this, 'suspendToFile', id, 'suspend');
    return this.serialize(id, async () => this.transition(this.requireState(id, this.vms.get(id), 'suspend'), 'suspending', this.delays.suspend));
  }

  async resume(id: string): Promise<VmStatus> {
    requireCapability(this, 'suspendToFile', id, 'resume');
    return this.serialize(id, async () => this.transition(this.requireState(id, this.vms.get(id), 'resume'), 'resuming', this.delays.resume));
  }

  async migrate(id: string, toNode: string): Promise<VmStatus> {
    requireCapability(this, 'coldMigration', id, 'migrate');
    return this.serialize(id, async () => {
      const vm = this.requireState(id, this.vms.get(id), 'migrate');
      if (vm.status.node === toNode) throw new DriverError(id, `cannot migrate: already on ${toNode}; migrate needs a different node`);
      vm.toNode = toNode;
      return this.transition(vm, 'migrating', this.delays.migrate);
    });
  }

  /** Like a real live migration, the VM is never down for long enough to notice: the report says 0 ms. */
  async liveMigrate(id: string, toNode: string): Promise<{ status: VmStatus; totalMs: number; downtimeMs: number }> {
    requireCapability(this, 'liveMigration', id, 'migrate live');
    const status = await this.serialize(id, async () => {
      const vm = this.requireState(id, this.vms.get(id), 'liveMigrate');
      if (vm.status.node === toNode) throw new DriverError(id, `cannot migrate: already on ${toNode}; migrate needs a different node`);
      vm.toNode = toNode;
      vm.live = true;
      return this.transition(vm, 'migrating', this.delays.migrate);
    });
    return { status, totalMs: this.delays.migrate, downtimeMs: 0 };
  }

  async status(): Promise<VmStatus[]> {
    return [...this.vms.values()].map((vm) => ({ ...vm.status })).sort((a, b) => a.id.localeCompare(b.id));
  }

  /**
   * The node was lost (its agent stayed away, as the service was told): its VMs are gone with
   * everything they held, as they would be on real hosts, so that a lease moved elsewhere starts
   * afresh there rather than finding its old VM running on a node the service has written off.
   */
  writeOff(node: string, vmIds: readonly string[]): void {
    for (const id of vmIds) {
      const vm = this.vms.get(id);
      if (vm?.status.node !== node) continue;
      this.vms.delete(id);
      this.save(vm);
    }
  }

  onChange(listener: (vm: VmStatus) => void): void {
    this.listeners.push(listener);
  }

  /** Test hook: the guest dies (a crash, a kernel panic, the host kills it). */
  failVm(id: string, detail: string): Promise<VmStatus> {
    return this.serialize(id, async () => this.endByItself(this.requireState(id, this.vms.get(id), 'fail'), 'failed', detail));
  }

  /** Test hook: the guest shuts itself down. */
  exitVm(id: string): Promise<VmStatus> {
    return this.serialize(id, async () => this.endByItself(this.requireState(id, this.vms.get(id), 'exit'), 'stopped', 'the guest shut itself down'));
  }

  /** Operations in flight reject; with a state file their VMs stay in transition, as after a crash. */
  async close(): Promise<void> {
    this.closed = true;
    for (const p of this.pending) {
      clearTimeout(p.timer);
      p.reject(new Error('simulated driver closed during the operation'));
    }
    this.pending.clear();
  }

  private serialize<T>(id: string, op: () => Promise<T>): Promise<T> {
    return this.queues.run(id, op, () => this.ensureOpen());
  }

  private requireState(id: string, vm: SimVm | undefined, op: GuardedOp): SimVm {
    const legal = LEGAL_FROM[op];
    const needs = `${op} needs a VM that is ${legal.join(' or ')}`;
    if (!vm) throw new DriverError(id, `cannot ${op}: no such VM; ${needs}`);
    if (!legal.includes(vm.status.state)) throw new DriverError(id, `cannot ${op}: the VM is ${vm.status.state}; ${needs}`);
    return vm;
  }

  private async transition(vm: SimVm, transitional: VmState, delayMs: number): Promise<VmStatus> {
    this.setState(vm, transitional);
    await this.sleep(delayMs);
    this.finishTransition(vm);
    return { ...vm.status };
  }

  /** The end of whatever transition the VM is in: after its delay, or on loading a saved table. */
  private finishTransition(vm: SimVm): void {
    switch (vm.status.state) {
      case 'starting':
      case 'resuming':
        this.setState(vm, 'running');
        return;
      case 'suspending':
        this.setState(vm, 'suspended');
        return;
      case 'migrating':
        vm.status.node = vm.spec.node = vm.toNode ?? vm.status.node;
        delete vm.toNode;
        this.setState(vm, vm.live ? 'running' : 'suspended');
        delete vm.live;
        return;
      case 'stopping':
        this.vms.delete(vm.spec.id);
        this.setState(vm, 'stopped');
        return;
      case 'running':
      case 'suspended':
      case 'stopped':
      case 'failed':
        return; // not in transition
    }
  }

  private endByItself(vm: SimVm, state: 'failed' | 'stopped', detail: string): VmStatus {
    vm.status.detail = detail;
    this.setState(vm, state);
    return { ...vm.status };
  }

  private setState(vm: SimVm, state: VmState): void {
    vm.status.state = state;
    vm.status.ip = state === 'running' ? ipFromMac(vm.spec.mac) : null;
    this.save(vm);
    this.emit({ ...vm.status });
  }

  private emit(status: VmStatus): void {
    for (const listener of this.listeners) {
      try {
        listener(status);
      } catch (err) {
        // A faulty listener is a bug to surface, but not by leaving a VM half-way through a transition.
        queueMicrotask(() => {
          throw err;
        });
      }
    }
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((resolve, reject) => {
      const entry: PendingDelay = {
        timer: setTimeout(() => {
          this.pending.delete(entry);
          resolve();
        }, ms),
        reject,
      };
      this.pending.add(entry);
    });
  }

  private ensureOpen(): void {
    if (this.closed) throw new Error('simulated driver is closed');
  }

  /**
   * Appends the VM's new state (null once it is gone) to a journal, synchronously: one short write
   * per change, however many VMs there are. A crash can only cut the last line short.
   */
  private save(vm: SimVm): void {
    if (!this.stateFile) return;
    const entry = this.vms.get(vm.spec.id) === vm ? vm : null;
    appendFileSync(this.stateFile, `${JSON.stringify({ id: vm.spec.id, vm: entry })}\n`);
  }

  /** While the service was down its VMs carried on: transitions under way then have finished since. */
  private load(file: string): void {
    if (!existsSync(file)) return;
    for (const line of readFileSync(file, 'utf8').split('\n')) {
      if (line.trim() === '') continue;
      let entry: { id: string; vm: SimVm | null };
      try {
        entry = JSON.parse(line);
      } catch {
        continue; // a line cut short by a crash
      }
      if (entry.vm) this.vms.set(entry.id, entry.vm);
      else this.vms.delete(entry.id);
    }
    this.compact(file);
    for (const vm of [...this.vms.values()]) this.finishTransition(vm);
  }

  /** Rewrites the journal as one line per live VM, atomically. */
  private compact(file: string): void {
    const temp = `${file}.${process.pid}.tmp`;
    writeFileSync(temp, [...this.vms.values()].map((vm) => `${JSON.stringify({ id: vm.spec.id, vm })}\n`).join(''));
    renameSync(temp, file);
  }
}
