// What a VM's process needs on its node besides itself: the cached base images it boots from, a
// copy-on-write overlay, a scratch disk and a cloud-init seed volume in its directory, a tap on the
// node's bridge and the address the service gave it in the node's DHCP server. The host
// (qemu-host.ts) keeps the book of VMs; this keeps their parts.

import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { ImageRef, NetworkPlan, Workload } from '../drivers/qemu/protocol.ts';
import type { ImageCache } from './images/image-cache.ts';
import { fetchBlob } from './images/http-fetch.ts';
import { createOverlay, createScratch, removeDisk } from './images/disks.ts';
import { statementProblem } from './images/statement-check.ts';
import { ClusterNetworks } from './network/cluster-networks.ts';
import { checkClusterSpec, checkMember, privateTapName, type ClusterMember, type ClusterNetworkSpec } from './network/cluster-spec.ts';
import { Subnet } from './network/addresses.ts';
import { NodeNetwork, tapName } from './network/node-network.ts';
import { Commands } from './network/commands.ts';
import { shapeTap, unshapeTap } from './network/tap-shaper.ts';
import { limitsProblem } from '../drivers/leased-limits.ts';
import type { VmCgroups } from './cgroups/vm-cgroups.ts';
import { processMemoryMiB } from './qemu/qemu-argv.ts';
import type { VmProcessConfig } from './vm-runtime.ts';
import { SEED_FILE, writeSeedVolume } from './seed-volume.ts';

export const DISK_FILE = 'disk.qcow2';
export const MEMORY_FILE = 'memory.state';
export const SCRATCH_FILE = 'scratch.qcow2';

const scratchOf = (w: Workload): number => w.vm.scratchMiB ?? 0;

/** The disk files a VM of this workload has in its directory, by name. */
export const diskFilesOf = (w: Workload): string[] => [...(w.disk ? [DISK_FILE] : []), ...(scratchOf(w) ? [SCRATCH_FILE] : [])];

/** The VM's directory name under the agent's (and a depot's) vms/: its id with '/' and the like escaped. */
export const vmDirName = (id: string): string => id.replace(/[^A-Za-z0-9._-]/g, (c) => `%${c.charCodeAt(0).toString(16).padStart(2, '0')}`);

export interface VmPartsOptions {
  data: string;
  server: string;
  token: string;
  bridge: string;
  netns?: string;
  /** This node's underlay address for cluster networks' VXLAN; without it the node runs no cluster members. */
  underlay?: string;
}

/** A workload's private NIC and network, checked; undefined for a VM on the public network only. */
function privateOf(w: Workload, underlay: string | undefined): { spec: ClusterNetworkSpec; member: ClusterMember } | undefined {
  const nics = w.nics ?? [];
  if (nics.length === 0 && !w.cluster) {
    if (w.publicNic === false) throw new Error(`VM ${w.vm.id} has neither a public nor a private NIC: give it one`);
    return undefined;
  }
  if (nics.length !== 1 || !w.cluster) throw new Error(`VM ${w.vm.id}: a cluster member has exactly one private NIC and its cluster network (got ${nics.length} NICs, ${w.cluster ? 'a' : 'no'} network)`);
  if (!underlay) throw new Error(`VM ${w.vm.id} is a cluster member, but this agent has no underlay address for VXLAN: start it with --underlay ADDRESS`);
  const tap = privateTapName(w.vm.id);
  if (nics[0].tap !== undefined && nics[0].tap !== tap) throw new Error(`VM ${w.vm.id}'s private tap must be ${tap} (the agent names taps itself), got ${JSON.stringify(nics[0].tap)}`);
  const spec = checkClusterSpec({ ...w.cluster, local: underlay });
  const member = checkMember({ tap, mac: nics[0].mac, ip: nics[0].ip, ...(nics[0].hostname !== undefined ? { hostname: nics[0].hostname } : {}) }, new Subnet(spec.nodeAddress, spec.prefix), spec.contextAddress);
  if (member.mac === w.vm.mac && w.publicNic !== false) throw new Error(`VM ${w.vm.id}'s private NIC has its public MAC ${w.vm.mac}: each NIC needs its own`);
  return { spec, member };
}

/** The taps a VM of this workload has: its public one, and its private one for a cluster member. */
const tapsOf = (w: Workload): string[] => [...(w.publicNic !== false ? [tapName(w.vm.id)] : []), ...(w.cluster ? [privateTapName(w.vm.id)] : [])];

/** The VM's disk I/O limits in QEMU's terms (bytes and operations per second), or none. */
function diskThrottleOf(w: Workload): VmProcessConfig['diskThrottle'] {
  const { diskMBps, diskIops } = w.vm;
  if (diskMBps === undefined && diskIops === undefined) return undefined;
  return { ...(diskMBps !== undefined ? { bytesPerSecond: Math.round(diskMBps * 1e6) } : {}), ...(diskIops !== undefined ? { iops: diskIops } : {}) };
}

export class VmParts {
  private network: NodeNetwork | null = null;
  private clusters: ClusterNetworks | null = null;
  private readonly cmds: Commands;

  /** `cgroups`: where each VM's QEMU is capped at its lease's CPU and memory; null, uncapped (vws agent --cgroups off). */
  constructor(private readonly opts: VmPartsOptions, private readonly images: ImageCache, private readonly cgroups: VmCgroups | null) {
    this.cmds = new Commands(opts.netns);
  }

  /**
   * Brings the node's bridge and DHCP server up as the service plans them (once per plan), with
   * the addresses of the VMs that keep theirs and the guards of the `running` ones' taps; `onLease`
   * hears each address a guest takes.
   */
  async useNetwork(plan: NetworkPlan, addressed: Workload[], onLease: (mac: string, ip: string) => void, running: Workload[] = []): Promise<void> {
    if (this.network && this.network.config.gateway === plan.bridgeAddress) return;
    this.network = await NodeNetwork.open({ netns: this.opts.netns, bridge: this.opts.bridge, gateway: plan.bridgeAddress, prefix: plan.prefix, dir: join(this.opts.data, 'network') });
    this.network.onLease(onLease);
    // Cluster networks come back from their own records (members, addresses, peers).
    this.clusters ??= await ClusterNetworks.open({ netns: this.opts.netns, dir: join(this.opts.data, 'network', 'clusters'), guards: this.network.guards, onLease });
    for (const w of addressed.filter((x) => x.publicNic !== false)) await this.network.setHost(w.vm.mac, w.ip);
    // A VM still running keeps its tap; its guard and shaping are set again, in case they were lost.
    for (const w of running.filter((x) => x.publicNic !== false)) await this.network.addTap(tapName(w.vm.id), { mac: w.vm.mac, ip: w.ip });
    for (const w of running) await this.shape(w);
  }

  async fetchImage(image: ImageRef, acquire = false): Promise<string> {
    const url = `${this.opts.server.replace(/\/$/, '')}/v1/images/${encodeURIComponent(image.name)}/content`;
    const fetch = () => fetchBlob(url, this.opts.token);
    if (image.trust) {
      // Checked before the image is taken for a VM, so a refused one holds no reference in the cache.
      const problem = statementProblem(image, await this.images.ensure(image.sha256, fetch));
      if (problem) throw new Error(problem);
    }
    return this.images.ensure(image.sha256, fetch, { acquire });
  }

  /** Everything the VM's process needs on this node: its images, overlay, tap and DHCP entry. */
  async configFor(w: Workload, dir: string, freshOverlay: boolean): Promise<VmProcessConfig> {
    if (!this.network || !this.clusters) throw new Error('the node network is not up yet: the service has not welcomed this agent');
    // Checked before anything is made for the VM.
    const priv = privateOf(w, this.opts.underlay);
    const wrongLimit = limitsProblem(w.vm, `VM ${w.vm.id}'s workload: vm`);
    if (wrongLimit) throw new Error(wrongLimit);
    const disk = join(dir, DISK_FILE);
    if (w.disk && freshOverlay) {
      await removeDisk(disk);
      await createOverlay(await this.fetchImage(w.disk, true), disk);
    }
    const scratch = join(dir, SCRATCH_FILE);
    if (scratchOf(w) && freshOverlay) {
      await removeDisk(scratch);
      await createScratch(scratch, scratchOf(w));
    }
    const seed = await this.ensureSeed(w, dir, freshOverlay);
    const nics: Array<{ mac: string; tap: string }> = [];
    if (w.publicNic !== false) {
      const tap = tapName(w.vm.id);
      await this.network.addTap(tap, { mac: w.vm.mac, ip: w.ip });
      await this.network.setHost(w.vm.mac, w.ip);
      nics.push({ mac: w.vm.mac, tap });
    }
    if (priv) {
      await this.clusters.join(priv.spec, priv.member);
      nics.push({ mac: priv.member.mac, tap: priv.member.tap });
    }
    await this.shape(w);
    const cgroupProcs = this.cgroups?.prepare(vmDirName(w.vm.id), this.cgroupLimits(w));
    const diskThrottle = diskThrottleOf(w);
    return {
      id: w.vm.id, dir, cpu: Math.max(1, Math.ceil(w.vm.cpu)), memoryMiB: w.vm.memoryMiB,
      ...(w.boot ? { kernel: await this.fetchImage(w.boot.kernel, freshOverlay), initrd: await this.fetchImage(w.boot.initrd, freshOverlay), cmdline: w.boot.cmdline } : {}),
      disks: [...(w.disk ? [{ path: disk, format: 'qcow2' as const }] : []), ...(scratchOf(w) ? [{ path: scratch, format: 'qcow2' as const }] : [])],
      ...(w.seed ? { seed } : {}),
      nic: nics[0],
      ...(nics.length > 1 ? { moreNics: nics.slice(1) } : {}),
      netns: this.opts.netns,
      ...(cgroupProcs ? { cgroupProcs } : {}),
      ...(diskThrottle ? { diskThrottle } : {}),
    };
  }

  /** An adopted VM's QEMU (after the agent restarted) goes back into its cgroups, capped as it was started. */
  adoptProcess(w: Workload, pid: number | undefined): void {
    if (pid !== undefined) this.cgroups?.join(vmDirName(w.vm.id), pid, this.cgroupLimits(w));
  }

  /** Removes the cgroups of VMs other than `keep` (by VM id) that no process is left in. */
  async sweepCgroups(keep: Iterable<string>): Promise<void> {
    await this.cgroups?.sweep(new Set([...keep].map(vmDirName)));
  }

  /** The cgroup limits of a VM: its leased CPUs, and its leased memory with QEMU's own (qemu-argv.ts). */
  private cgroupLimits(w: Workload): { cpu: number; memoryMiB: number } {
    return { cpu: w.vm.cpu, memoryMiB: processMemoryMiB(w.vm.memoryMiB) };
  }

  /** Shapes each of the VM's taps to its leased bandwidth (each NIC on its own), where it has one. */
  private async shape(w: Workload): Promise<void> {
    if (w.vm.bandwidthMbps === undefined) return;
    for (const tap of tapsOf(w)) await shapeTap(this.cmds, tap, w.vm.bandwidthMbps);
  }

  /** What the VM had on the node once its process is gone: its cgroups, and its taps' ifb devices. */
  private async release(id: string): Promise<void> {
    for (const tap of [tapName(id), privateTapName(id)]) await unshapeTap(this.cmds, tap);
    await this.cgroups?.remove(vmDirName(id));
  }

  /**
   * Writes the VM's seed volume from its workload (afresh, or where it is missing): a VM resumed
   * here or received from another node boots no more, but QEMU must find the drives it was saved with.
   */
  async ensureSeed(w: Workload, dir: string, fresh: boolean): Promise<string> {
    const seed = join(dir, SEED_FILE);
    if (w.seed && (fresh || !existsSync(seed))) await writeSeedVolume(w.seed, seed);
    return seed;
  }

  /** The VM's taps go (it no longer runs here); its addresses stay for when it runs again. */
  async unplugTap(id: string): Promise<void> {
    await this.network?.removeTap(tapName(id));
    await this.clusters?.unplugTap(privateTapName(id));
    await this.release(id);
  }

  /** The VM's taps and addresses all go; its cluster's network too when it was the last member here. */
  async unplug(w: Workload): Promise<void> {
    await this.network?.removeTap(tapName(w.vm.id));
    if (w.publicNic !== false) await this.network?.removeHost(w.vm.mac);
    const nic = w.nics?.[0];
    if (w.cluster && nic) await this.clusters?.unplug(w.cluster.number, privateTapName(w.vm.id), nic.mac, true);
    await this.release(w.vm.id);
  }

  /** The nodes holding members of cluster `number` changed. */
  async clusterPeers(number: number, peers: string[]): Promise<void> {
    if (!this.clusters) throw new Error('the node network is not up yet: the service has not welcomed this agent');
    await this.clusters.setPeers(number, peers);
  }

  /** The VM no longer uses its images: the cache may evict them. */
  releaseImages(w: Workload): void {
    for (const image of imagesOf(w)) {
      if (this.images.entries().some((e) => e.sha256 === image.sha256 && e.users > 0)) this.images.release(image.sha256);
    }
  }

  /** A VM adopted after a restart uses its images again, where the cache still has them. */
  adoptImages(w: Workload): void {
    for (const image of imagesOf(w)) if (existsSync(this.images.pathOf(image.sha256))) this.images.acquire(image.sha256);
  }

  /** The network stays up for the VMs that run on. */
  async close(): Promise<void> {
    await this.clusters?.close();
    await this.network?.close();
    await this.cgroups?.close();
  }

  /** The node is handed back (a pilot's end): its VM networks go, dnsmasq, taps and bridges with them. */
  async tearDown(): Promise<void> {
    await this.clusters?.tearDownAll();
    await this.network?.tearDown();
    await this.cgroups?.tearDown();
    this.clusters = null;
    this.network = null;
  }
}

function imagesOf(w: Workload): ImageRef[] {
  return [...(w.disk ? [w.disk] : []), ...(w.boot ? [w.boot.kernel, w.boot.initrd] : [])];
}
