// A pool node with no hypervisor behind it, for a swarm of thousands of agents in one process
// (vws agent-swarm): its VMs are entries in a map, and each operation spends a small real delay in
// its transitional state, as the simulated driver does, so that the service meets over the real
// protocol the same in-between states, orderings and races it would meet with QEMU. Nothing here
// outlives the process: a restarted swarm is a set of nodes that lost their VMs.

import { randomBytes } from 'node:crypto';
import { DriverError, type VmState, type VmStatus } from '../drivers/driver.ts';
import type { AgentHost } from './node-agent.ts';
import type { AgentCalls, Landing, LiveMigrationReport, NetworkPlan, NodeReport, Timing, Workload } from '../drivers/qemu/protocol.ts';
import { heldVm, heldVmIn } from './held-vms.ts';

export interface SimulatedHostDelays {
  boot: number;
  stop: number;
  suspend: number;
  resume: number;
  /** Carrying a VM's state to another node, cold or live. */
  transfer: number;
  /** Taking an image into the node's cache (once per image). */
  prepareImage: number;
}

export const DEFAULT_HOST_DELAYS: SimulatedHostDelays = { boot: 50, stop: 20, suspend: 30, resume: 30, transfer: 40, prepareImage: 10 };

type Args<K extends keyof AgentCalls> = AgentCalls[K]['args'];

interface Arrival {
  address: string;
  arrived: () => void;
}

/**
 * Where the simulated nodes of one swarm hand each other migrating VMs: a landing's ticket names
 * the receiving node's open arrival. A real agent pushes files to a port; these nodes share a
 * process, so a landing outside the swarm (another process's node) cannot be reached and says so.
 */
export class TransferExchange {
  private readonly open = new Map<string, Arrival>();
  private nextPort = 0;

  /** A landing on `address`, and what settles once a sender has delivered to it. */
  expect(address: string): { landing: Landing; delivered: Promise<void>; cancel: () => void } {
    const ticket = randomBytes(12).toString('base64url');
    // A port is part of a landing's shape; here it only has to be a valid one.
    const port = 20_000 + (this.nextPort++ % 40_000);
    let arrived!: () => void;
    const delivered = new Promise<void>((resolve) => (arrived = resolve));
    this.open.set(ticket, { address, arrived });
    return { landing: { address, port, ticket, diskPort: port }, delivered, cancel: () => this.open.delete(ticket) };
  }

  deliver(vmId: string, to: Landing): void {
    const arrival = this.open.get(to.ticket);
    if (!arrival || arrival.address !== to.address) {
      throw new DriverError(vmId, `no node of this swarm waits for it at ${to.address}:${to.port}: a simulated node hands VMs only to nodes of its own swarm (one vws agent-swarm process)`);
    }
    this.open.delete(to.ticket);
    arrival.arrived();
  }
}

interface Held {
  workload: Workload;
  status: VmStatus;
  /** A migration arriving here: settles once the sender has handed the VM over. */
  arriving?: { delivered: Promise<void>; cancel: () => void; live: boolean };
}

export interface SimulatedHostOptions {
  delaysMs?: Partial<SimulatedHostDelays>;
  /** The swarm's exchange; a host of its own (no peers) by default. */
  exchange?: TransferExchange;
  /** Called at each welcome of the service (the agent brings the network up then). */
  onWelcome?: () => void;
}

export class SimulatedHost implements AgentHost {
  private readonly vms = new Map<string, Held>();
  private readonly images = new Set<string>();
  private readonly peers = new Map<number, string[]>();
  private readonly delays: SimulatedHostDelays;
  private readonly exchange: TransferExchange;
  private changeListener: (vm: VmStatus) => void = () => undefined;
  private timingListener: (t: Timing) => void = () => undefined;
  network: NetworkPlan | null = null;

  constructor(private readonly report: NodeReport, private readonly opts: SimulatedHostOptions = {}) {
    this.delays = { ...DEFAULT_HOST_DELAYS, ...opts.delaysMs };
    this.exchange = opts.exchange ?? new TransferExchange();
  }

  node(): NodeReport {
    return this.report;
  }

  /** How many VMs the node holds, by state. */
  counts(): Partial<Record<VmState, number>> {
    const out: Partial<Record<VmState, number>> = {};
    for (const h of this.vms.values()) out[h.status.state] = (out[h.status.state] ?? 0) + 1;
    return out;
  }

  async useNetwork(plan: NetworkPlan): Promise<void> {
    this.network = plan;
    this.opts.onWelcome?.();
  }

  // One listener each: NodeAgent is the only one, and a list per node would cost memory times thousands.
  onChange(listener: (vm: VmStatus) => void): void {
    this.changeListener = listener;
  }

  onTiming(listener: (t: Timing) => void): void {
    this.timingListener = listener;
  }

  async status(): Promise<VmStatus[]> {
    return [...this.vms.values()].map((h) => h.status);
  }

  async workload({ id }: Args<'workload'>): Promise<Workload> {
    return this.held(id).workload;
  }

  async clusterPeers({ number, peers }: Args<'clusterPeers'>): Promise<void> {
    if (peers.length === 0) this.peers.delete(number);
    else this.peers.set(number, [...peers]);
  }

  /**
   * The image is taken as cached without fetching its bytes: thousands of nodes in one process
   * would each hold a copy, and the time would be the blob server's, not the control plane's that
   * the swarm is for. The reference is still checked as the real agent checks it before fetching.
   */
  async prepareImages({ images }: Args<'prepareImages'>): Promise<void> {
    for (const image of images) {
      if (!/^[0-9a-f]{64}$/.test(image.sha256)) throw new DriverError(image.name, `image '${image.name}' has no valid sha256 ('${image.sha256}')`);
      if (this.images.has(image.sha256)) continue;
      await sleep(this.delays.prepareImage);
      this.images.add(image.sha256);
    }
  }

  async start(w: Args<'start'>): Promise<VmStatus> {
    const existing = this.vms.get(w.vm.id);
    if (existing && existing.status.state !== 'failed') return existing.status;
    const held: Held = { workload: w, status: this.statusOf(w, 'starting') };
    this.vms.set(w.vm.id, held);
    this.set(held, 'starting');
    await sleep(this.delays.boot);
    // The guest has its address at once: there is no DHCP exchange to wait for.
    held.status = { ...held.status, ip: w.ip };
    this.timed({ op: 'boot', memoryMiB: w.vm.memoryMiB, ms: this.delays.boot });
    return this.set(held, 'running');
  }

  async stop({ id }: Args<'stop'>): Promise<void> {
    const held = this.vms.get(id);
    if (!held) return;
    this.set(held, 'stopping');
    await sleep(this.delays.stop);
    this.forget(held);
    this.set(held, 'stopped');
  }

  async suspend({ id }: Args<'suspend'>): Promise<VmStatus> {
    const held = this.inState(id, 'running', 'suspended');
    this.set(held, 'suspending');
    await sleep(this.delays.suspend);
    this.timed({ op: 'suspend', memoryMiB: held.workload.vm.memoryMiB, ms: this.delays.suspend });
    return this.set(held, 'suspended');
  }

  async resume({ id }: Args<'resume'>): Promise<VmStatus> {
    const held = this.inState(id, 'suspended', 'resumed');
    this.set(held, 'resuming');
    await sleep(this.delays.resume);
    this.timed({ op: 'resume', memoryMiB: held.workload.vm.memoryMiB, ms: this.delays.resume });
    held.status = { ...held.status, ip: held.workload.ip };
    return this.set(held, 'running');
  }

  async receive(w: Args<'receive'>): Promise<Landing> {
    return this.arrive(w, false);
  }

  async send({ id, to }: Args<'send'>): Promise<void> {
    const held = this.inState(id, 'suspended', 'sent to another node');
    await sleep(this.delays.transfer);
    this.exchange.deliver(id, to);
    this.timed({ op: 'migrate', memoryMiB: held.workload.vm.memoryMiB, ms: this.delays.transfer });
    this.forget(held);
  }

  async received({ id }: Args<'received'>): Promise<VmStatus> {
    const held = this.arrival(id, false);
    await held.arriving!.delivered;
    held.arriving = undefined;
    return this.set(held, 'suspended');
  }

  async incoming(w: Args<'incoming'>): Promise<Landing> {
    return this.arrive(w, true);
  }

  async migrateLive({ id, to }: Args<'migrateLive'>): Promise<LiveMigrationReport> {
    const held = this.inState(id, 'running', 'migrated live');
    await sleep(this.delays.transfer);
    this.exchange.deliver(id, to);
    this.timed({ op: 'live-migrate', memoryMiB: held.workload.vm.memoryMiB, ms: this.delays.transfer });
    this.forget(held);
    return { totalMs: this.delays.transfer, downtimeMs: 0 };
  }

  async arrived({ id }: Args<'arrived'>): Promise<VmStatus> {
    const held = this.arrival(id, true);
    await held.arriving!.delivered;
    held.arriving = undefined;
    held.status = { ...held.status, ip: held.workload.ip };
    return this.set(held, 'running');
  }

  async abandon({ id }: Args<'abandon'>): Promise<void> {
    const held = this.vms.get(id);
    if (!held?.arriving) return;
    held.arriving.cancel();
    this.forget(held);
  }

  /** A simulated node shares no depot (its hello names none): the service never asks it to park. */
  async park({ id }: Args<'park'>): Promise<VmStatus> {
    throw new DriverError(id, `simulated node '${this.report.name}' has no depot`);
  }

  async unpark({ workload }: Args<'unpark'>): Promise<VmStatus> {
    throw new DriverError(workload.vm.id, `simulated node '${this.report.name}' has no depot`);
  }

  private arrive(w: Workload, live: boolean): Landing {
    if (this.vms.has(w.vm.id)) throw new DriverError(w.vm.id, `node '${this.report.name}' already has this VM`);
    const { landing, delivered, cancel } = this.exchange.expect(live ? this.report.migrationAddress : this.report.transferAddress);
    this.vms.set(w.vm.id, { workload: w, status: this.statusOf(w, 'migrating'), arriving: { delivered, cancel, live } });
    return live ? landing : { address: landing.address, port: landing.port, ticket: landing.ticket };
  }

  private arrival(id: string, live: boolean): Held {
    const held = this.held(id);
    if (held.arriving?.live !== live) throw new DriverError(id, live ? 'no migration is arriving for this VM here' : 'nothing is being received for this VM here');
    return held;
  }

  private forget(held: Held): void {
    this.vms.delete(held.workload.vm.id);
  }

  private set(held: Held, state: VmState): VmStatus {
    const live = state === 'running' || state === 'suspending' || state === 'migrating';
    held.status = { ...held.status, state, ip: live ? held.status.ip : null };
    this.changeListener(held.status);
    return held.status;
  }

  private timed(t: Timing): void {
    this.timingListener(t);
  }

  private statusOf(w: Workload, state: VmState): VmStatus {
    return { id: w.vm.id, node: this.report.name, state, ip: null, console: null };
  }

  private held(id: string): Held {
    return heldVm(this.vms, id, this.report.name);
  }

  private inState(id: string, state: VmState, toBe: string): Held {
    return heldVmIn(this.vms, id, this.report.name, state, toBe);
  }
}

const sleep = (ms: number): Promise<void> => (ms > 0 ? new Promise((resolve) => setTimeout(resolve, ms)) : Promise.resolve());
