// A pool node as its agent runs it: every VM a QEMU process (in cgroups capped at its lease) with a
// copy-on-write overlay over a cached base image, a tap on the node's bridge, and the address the
// service gave it from the node's DHCP server. What each VM is and where it stands is written under
// its own directory, so that a restarted agent adopts the VMs that ran on without it. The parts a
// VM needs besides its process (images, disks, tap, cgroups, address) are kept by vm-parts.ts.

import { existsSync, mkdirSync, readFileSync, readdirSync, renameSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { DEPOT_NODE, DriverError, type VmStatus } from '../drivers/driver.ts';
import type { AgentHost } from './node-agent.ts';
import type { AgentCalls, Landing, NetworkPlan, NodeReport, Workload } from '../drivers/qemu/protocol.ts';
import { ImageCache } from './images/image-cache.ts';
import { rebaseOverlay } from './images/disks.ts';
import { DISK_FILE, diskFilesOf, MEMORY_FILE, SCRATCH_FILE, vmDirName, VmParts } from './vm-parts.ts';
import { newTicket, receiveFiles, sendFiles } from './state-transfer.ts';
import type { VmProcess, VmRuntime } from './vm-runtime.ts';
import { type Held, VmBook } from './vm-book.ts';
import { qemuRuntime } from './qemu-runtime.ts';
import { vmIdProblem } from '../drivers/qemu/agent-messages.ts';
import { fsSyncer, type Syncer, writeDurably } from './durable.ts';
import { NodeContextRelay } from './context-relay-node.ts';
import { Depot } from './depot.ts';
import { landFromDepot, settleDepotStep, type DepotStep } from './depot-host.ts';
import { type CgroupChoice, openVmCgroups } from './cgroups/vm-cgroups.ts';

export interface QemuHostOptions {
  data: string;
  server: string;
  token: string;
  node: NodeReport;
  imageCacheMiB: number;
  bridge: string;
  netns?: string;
  /** This node's underlay address for cluster networks (see VmPartsOptions). */
  underlay?: string;
  runtime?: VmRuntime;
  /** fsync, as a test records it. */
  sync?: Syncer;
  /**
   * Runs the node's context relay (context-relay.ts), forwarding to `server` with this CA: how the
   * cluster members here reach the context broker. None: no relay (vws agent --context-relay off).
   */
  contextRelay?: { ca?: string };
  /** A directory the site's nodes share (vws agent --depot): suspended VMs are parked there (depot.ts). */
  depot?: string;
  /** Each VM's QEMU in cgroups capped at its lease's CPU and memory (vm-cgroups.ts): on by default; false, uncapped. */
  cgroups?: CgroupChoice;
}

const TRANSFER_TIMEOUT_MS = 600_000;

type Args<K extends keyof AgentCalls> = AgentCalls[K]['args'];

export class QemuHost extends VmBook implements AgentHost {
  private readonly runtime: VmRuntime;
  private relay: NodeContextRelay | null = null;
  private readonly depot: Depot | null;
  private readonly report: NodeReport;

  private constructor(private readonly opts: QemuHostOptions, private readonly parts: VmParts) {
    super(opts.data, opts.node.name, opts.sync ?? fsSyncer);
    this.runtime = opts.runtime ?? qemuRuntime;
    this.depot = opts.depot ? Depot.open(opts.depot, opts.node.name, this.sync) : null;
    this.report = this.depot ? { ...opts.node, depot: this.depot.id } : opts.node;
  }

  static async open(opts: QemuHostOptions): Promise<QemuHost> {
    mkdirSync(join(opts.data, 'vms'), { recursive: true });
    const images = await ImageCache.open({ dir: join(opts.data, 'images'), limitBytes: opts.imageCacheMiB * 2 ** 20 });
    const host = new QemuHost(opts, new VmParts(opts, images, openVmCgroups(opts.data, opts.cgroups)));
    await host.adoptAll();
    host.depot?.sweep();
    if (opts.contextRelay) {
      try {
        host.relay = await NodeContextRelay.start({ server: opts.server, netns: opts.netns, dir: opts.data, ...(opts.contextRelay.ca ? { ca: opts.contextRelay.ca } : {}) });
      } catch (e) {
        await host.close();
        throw e;
      }
    }
    return host;
  }

  node(): NodeReport {
    return this.report;
  }

  async useNetwork(plan: NetworkPlan): Promise<void> {
    const addressed = [...this.vms.values()].filter((h) => h.status.state === 'running' || h.status.state === 'suspended').map((h) => h.workload);
    const running = [...this.vms.values()].filter((h) => h.status.state === 'running').map((h) => h.workload);
    await this.parts.useNetwork(plan, addressed, (mac, ip) => this.leased(mac, ip), running);
  }

  /** The node's VMs, and those parked in its depot (every node sharing it lists them: any may take them up). */
  async status(): Promise<VmStatus[]> {
    const parked = (this.depot?.parked() ?? []).filter((id) => !this.vms.has(id)).map((id) => ({ id, node: DEPOT_NODE, state: 'suspended' as const, ip: null, console: null }));
    return [...[...this.vms.values()].map((h) => h.status), ...parked];
  }

  async workload({ id }: Args<'workload'>): Promise<Workload> {
    if (!this.vms.has(id) && this.depot?.has(id)) return this.depot.entry(id).workload;
    return this.held(id).workload;
  }

  async clusterPeers({ number, peers }: Args<'clusterPeers'>): Promise<void> {
    await this.parts.clusterPeers(number, peers);
  }

  async prepareImages({ images }: Args<'prepareImages'>): Promise<void> {
    for (const image of images) await this.parts.fetchImage(image);
  }

  async start(w: Args<'start'>): Promise<VmStatus> {
    const existing = this.vms.get(w.vm.id);
    if (existing && existing.status.state !== 'failed') return existing.status;
    const dir = this.dirOf(w.vm.id);
    mkdirSync(dir, { recursive: true });
    const held: Held = { workload: w, status: this.statusOf(w, 'starting'), proc: null };
    this.vms.set(w.vm.id, held);
    this.save(held);
    this.set(held, 'starting');
    try {
      const config = await this.parts.configFor(w, dir, true);
      held.bootStarted = Date.now();
      this.watch(held, await this.runtime.boot(config));
      this.set(held, 'running');
    } catch (e) {
      await this.parts.unplug(held.workload);
      this.set(held, 'failed', `QEMU did not start: ${(e as Error).message}`);
    }
    return held.status;
  }

  async stop({ id, graceful }: Args<'stop'>): Promise<void> {
    const held = this.vms.get(id);
    // A parked VM is stopped by any node that shares its depot: its files go.
    if (!held) return this.depot?.discard(id);
    this.set(held, 'stopping');
    if (held.proc) await held.proc.stop(graceful);
    held.proc = null;
    await this.forget(held);
    this.set(held, 'stopped');
  }

  async suspend({ id }: Args<'suspend'>): Promise<VmStatus> {
    const held = this.inState(id, 'running', 'suspended');
    this.set(held, 'suspending');
    const file = join(this.dirOf(id), MEMORY_FILE);
    try {
      const { ms } = await held.proc!.saveTo(file);
      held.proc = null;
      this.timed({ op: 'suspend', memoryMiB: held.workload.vm.memoryMiB, ms });
    } catch (e) {
      this.set(held, 'running');
      throw e;
    }
    await this.parts.unplugTap(id);
    try {
      // QEMU's `cat > file` never fsyncs; the directory entry is made durable with vm.json's in set().
      this.sync.file(file);
    } catch (e) {
      return this.set(held, 'failed', `the saved state of ${id} could not be written to disk: ${(e as Error).message}`);
    }
    return this.set(held, 'suspended');
  }

  async resume({ id }: Args<'resume'>): Promise<VmStatus> {
    const held = this.inState(id, 'suspended', 'resumed');
    const file = join(this.dirOf(id), MEMORY_FILE);
    // Without its saved state the VM can never resume: it has failed (its lease with it), which no retry mends.
    if (!existsSync(file)) return this.set(held, 'failed', `the saved state of ${id} is gone from node '${this.opts.node.name}' (no ${file}): it cannot be resumed`);
    this.set(held, 'resuming');
    try {
      const config = await this.parts.configFor(held.workload, this.dirOf(id), false);
      const { vm, ms } = await this.runtime.restore(config, file);
      this.watch(held, vm);
      this.timed({ op: 'resume', memoryMiB: held.workload.vm.memoryMiB, ms });
    } catch (e) {
      this.set(held, 'suspended');
      throw e;
    }
    rmSync(file, { force: true });
    // The guest kept its address through the suspension.
    held.status = { ...held.status, ip: held.workload.ip };
    return this.set(held, 'running');
  }

  /** The suspended VM's files go whole into the depot (depot.ts says how a crash leaves them), then the node forgets it. */
  async park({ id }: Args<'park'>): Promise<VmStatus> {
    const depot = this.depotFor(id);
    const held = this.inState(id, 'suspended', 'parked');
    depot.begin(id);
    held.depotStep = 'parking';
    this.save(held);
    try {
      await depot.fill(id, held.workload, [MEMORY_FILE, ...diskFilesOf(held.workload)].map((name) => ({ name, path: join(this.dirOf(id), name) })));
      depot.commit(id);
    } catch (e) {
      depot.abort(id);
      held.depotStep = undefined;
      this.save(held);
      throw e;
    }
    await this.forget(held);
    this.sync.dir(join(this.opts.data, 'vms'));
    return { id, node: DEPOT_NODE, state: 'suspended', ip: null, console: null };
  }

  /** The parked VM's files come from the depot into this node's data dir; it is suspended here. */
  async unpark({ workload }: Args<'unpark'>): Promise<VmStatus> {
    const id = workload?.vm?.id;
    const wrong = vmIdProblem(id);
    if (wrong) throw new DriverError(String(id), `${wrong}: no VM has such an id, nothing was unparked`);
    const depot = this.depotFor(id);
    this.mustNotHold(id);
    const landing = join(this.opts.data, 'vms', `.${vmDirName(id)}.unparking`);
    const held: Held = { workload, status: this.statusOf(workload, 'suspended'), proc: null, depotStep: 'unparking' };
    try {
      await landFromDepot({ depot, parts: this.parts, sync: this.sync }, workload, landing, (file) => writeDurably(file, this.record(held), this.sync));
      // The VM is on this node (marked so) before the depot lets go of it: a crash between leaves it in one of the two.
      renameSync(landing, this.dirOf(id));
      this.sync.dir(join(this.opts.data, 'vms'));
    } catch (e) {
      rmSync(landing, { recursive: true, force: true });
      throw e;
    }
    this.vms.set(id, held);
    depot.letGo(id);
    held.depotStep = undefined;
    this.save(held);
    depot.cleared(id);
    return this.set(held, 'suspended');
  }

  async receive(w: Args<'receive'>): Promise<Landing> {
    const dir = this.dirOf(w.vm.id);
    this.mustNotHold(w.vm.id);
    mkdirSync(dir, { recursive: true });
    const ticket = newTicket();
    const landing = await receiveFiles({ address: this.opts.node.transferAddress, dir, ticket, timeoutMs: TRANSFER_TIMEOUT_MS });
    const held: Held = { workload: w, status: this.statusOf(w, 'migrating'), proc: null, receiving: landing };
    this.vms.set(w.vm.id, held);
    this.save(held);
    return { address: this.opts.node.transferAddress, port: landing.port, ticket };
  }

  async send({ id, to }: Args<'send'>): Promise<void> {
    const held = this.inState(id, 'suspended', 'sent to another node');
    const dir = this.dirOf(id);
    const files = [MEMORY_FILE, ...diskFilesOf(held.workload)].map((name) => ({ name, path: join(dir, name) }));
    const report = await sendFiles(to, files);
    this.timed({ op: 'migrate', memoryMiB: held.workload.vm.memoryMiB, ms: report.ms });
    await this.forget(held);
  }

  async received({ id }: Args<'received'>): Promise<VmStatus> {
    const held = this.held(id);
    if (!held.receiving) throw new DriverError(id, 'nothing is being received for this VM here');
    await held.receiving.done;
    held.receiving = undefined;
    if (held.workload.disk) {
      // The overlay names its base by the sender's path: point it at this node's copy.
      const base = await this.parts.fetchImage(held.workload.disk, true);
      await rebaseOverlay(join(this.dirOf(id), DISK_FILE), base);
    }
    // The seed does not travel with the state: it is made here from the same workload.
    await this.parts.ensureSeed(held.workload, this.dirOf(id), true);
    for (const name of [MEMORY_FILE, DISK_FILE, SCRATCH_FILE]) if (existsSync(join(this.dirOf(id), name))) this.sync.file(join(this.dirOf(id), name));
    return this.set(held, 'suspended');
  }

  async incoming(w: Args<'incoming'>): Promise<Landing> {
    this.mustNotHold(w.vm.id);
    const dir = this.dirOf(w.vm.id);
    mkdirSync(dir, { recursive: true });
    const held: Held = { workload: w, status: this.statusOf(w, 'migrating'), proc: null };
    this.vms.set(w.vm.id, held);
    this.save(held);
    try {
      held.incoming = await this.runtime.receive(await this.parts.configFor(w, dir, true), this.opts.node.migrationAddress);
    } catch (e) {
      await this.forget(held);
      throw e;
    }
    return { address: this.opts.node.migrationAddress, port: held.incoming.port, diskPort: held.incoming.diskPort, ticket: '' };
  }

  async migrateLive({ id, to }: Args<'migrateLive'>): Promise<{ totalMs: number; downtimeMs: number }> {
    const held = this.inState(id, 'running', 'migrated live');
    const report = await held.proc!.migrateTo(to);
    held.proc = null;
    this.timed({ op: 'live-migrate', memoryMiB: held.workload.vm.memoryMiB, ms: report.totalMs });
    await this.forget(held);
    return report;
  }

  async arrived({ id }: Args<'arrived'>): Promise<VmStatus> {
    const held = this.held(id);
    if (!held.incoming) throw new DriverError(id, 'no migration is arriving for this VM here');
    this.watch(held, await held.incoming.finish());
    held.incoming = undefined;
    held.status = { ...held.status, ip: held.workload.ip };
    return this.set(held, 'running');
  }

  async abandon({ id }: Args<'abandon'>): Promise<void> {
    const held = this.vms.get(id);
    if (!held || (!held.incoming && !held.receiving)) return;
    held.receiving?.cancel();
    await held.incoming?.abort();
    await this.forget(held);
  }

  /** The node goes back to its lender (a pilot's agent let go): no VM of ours may be left running, nor our VM networks. */
  async handBack(): Promise<void> {
    for (const held of [...this.vms.values()]) if (held.proc) await this.stop({ id: held.workload.vm.id, graceful: false });
    await this.relay?.close();
    this.relay = null;
    await this.parts.tearDown();
  }

  /** Lets go of every VM (they run on), and of the network and cgroups (they stay). */
  async close(): Promise<void> {
    for (const held of this.vms.values()) await held.proc?.release();
    await this.relay?.close();
    this.relay = null;
    await this.parts.close();
  }

  private watch(held: Held, proc: VmProcess): void {
    held.proc = proc;
    proc.onExit((detail) => {
      if (held.proc !== proc) return;
      held.proc = null;
      void this.forget(held).then(() => this.set(held, 'stopped', detail));
    });
  }

  /** Drops everything the VM had on this node. */
  private async forget(held: Held): Promise<void> {
    const id = held.workload.vm.id;
    await this.parts.unplug(held.workload);
    this.parts.releaseImages(held.workload);
    rmSync(this.dirOf(id), { recursive: true, force: true });
    this.vms.delete(id);
  }

  private leased(mac: string, ip: string): void {
    for (const held of this.vms.values()) {
      if (held.workload.vm.mac.toLowerCase() !== mac.toLowerCase() || held.status.ip === ip) continue;
      held.status = { ...held.status, ip };
      if (held.bootStarted !== undefined) {
        this.timed({ op: 'boot', memoryMiB: held.workload.vm.memoryMiB, ms: Date.now() - held.bootStarted });
        held.bootStarted = undefined;
      }
      this.emit(held);
    }
  }

  private depotFor(id: string): Depot {
    if (!this.depot) throw new DriverError(id, `node '${this.opts.node.name}' has no depot: start its agent with --depot DIR (a directory the nodes share)`);
    return this.depot;
  }

  /** After a restart: VMs whose process runs are adopted; saved ones stay suspended; the rest ended while the agent was away. */
  private async adoptAll(): Promise<void> {
    for (const name of readdirSync(join(this.opts.data, 'vms'))) {
      const dir = join(this.opts.data, 'vms', name);
      const file = join(dir, 'vm.json');
      // No vm.json, or an unpark's landing that never became the VM's directory: nothing to keep.
      if (!existsSync(file) || name.startsWith('.')) {
        rmSync(dir, { recursive: true, force: true });
        continue;
      }
      const { workload, status, depotStep } = JSON.parse(readFileSync(file, 'utf8')) as { workload: Workload; status: VmStatus; depotStep?: DepotStep };
      const held: Held = { workload, status: { ...status, node: this.opts.node.name }, proc: null };
      this.vms.set(workload.vm.id, held);
      this.parts.adoptImages(workload);
      if (depotStep && settleDepotStep(this.depot, workload.vm.id, depotStep) === 'elsewhere') {
        await this.forget(held);
        continue;
      }
      const proc = await this.runtime.adopt(dir);
      if (proc) {
        this.parts.adoptProcess(workload, proc.pid);
        this.watch(held, proc);
        held.status = { ...held.status, state: 'running', ip: held.status.ip ?? null };
      } else if (existsSync(join(dir, MEMORY_FILE)) && status.state === 'suspended') {
        held.status = { ...held.status, state: 'suspended', ip: null };
      } else {
        // It ended while nobody watched: the service learns it is gone from the agent's hello.
        await this.forget(held);
        continue;
      }
      this.save(held);
    }
    await this.parts.sweepCgroups(this.vms.keys());
  }
}
