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
import { NodeNetwork, tapName } from './network/node-network.ts';
import type { VmProcessConfig } from './vm-runtime.ts';
import { SEED_FILE, writeSeedVolume } from './seed-volume.ts';

export const DISK_FILE = 'disk.qcow2';
export const SCRATCH_FILE = 'scratch.qcow2';

const scratchOf = (w: Workload): number => w.vm.scratchMiB ?? 0;

/** The disk files a VM of this workload has in its directory, by name. */
export const diskFilesOf = (w: Workload): string[] => [...(w.disk ? [DISK_FILE] : []), ...(scratchOf(w) ? [SCRATCH_FILE] : [])];

export interface VmPartsOptions {
  data: string;
  server: string;
  token: string;
  bridge: string;
  netns?: string;
}

export class VmParts {
  private network: NodeNetwork | null = null;

  constructor(private readonly opts: VmPartsOptions, private readonly images: ImageCache) {}

  /**
   * Brings the node's bridge and DHCP server up as the service plans them (once per plan), with
   * the addresses of the VMs that keep theirs; `onLease` hears each address a guest takes.
   */
  async useNetwork(plan: NetworkPlan, addressed: Workload[], onLease: (mac: string, ip: string) => void): Promise<void> {
    if (this.network && this.network.config.gateway === plan.bridgeAddress) return;
    this.network = await NodeNetwork.open({ netns: this.opts.netns, bridge: this.opts.bridge, gateway: plan.bridgeAddress, prefix: plan.prefix, dir: join(this.opts.data, 'network') });
    this.network.onLease(onLease);
    for (const w of addressed) await this.network.setHost(w.vm.mac, w.ip);
  }

  async fetchImage(image: ImageRef, acquire = false): Promise<string> {
    const url = `${this.opts.server.replace(/\/$/, '')}/v1/images/${encodeURIComponent(image.name)}/content`;
    return this.images.ensure(image.sha256, () => fetchBlob(url, this.opts.token), { acquire });
  }

  /** Everything the VM's process needs on this node: its images, overlay, tap and DHCP entry. */
  async configFor(w: Workload, dir: string, freshOverlay: boolean): Promise<VmProcessConfig> {
    if (!this.network) throw new Error('the node network is not up yet: the service has not welcomed this agent');
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
    const tap = tapName(w.vm.id);
    await this.network.addTap(tap);
    await this.network.setHost(w.vm.mac, w.ip);
    return {
      id: w.vm.id, dir, cpu: Math.max(1, Math.ceil(w.vm.cpu)), memoryMiB: w.vm.memoryMiB,
      ...(w.boot ? { kernel: await this.fetchImage(w.boot.kernel, freshOverlay), initrd: await this.fetchImage(w.boot.initrd, freshOverlay), cmdline: w.boot.cmdline } : {}),
      disks: [...(w.disk ? [{ path: disk, format: 'qcow2' as const }] : []), ...(scratchOf(w) ? [{ path: scratch, format: 'qcow2' as const }] : [])],
      ...(w.seed ? { seed } : {}),
      nic: { mac: w.vm.mac, tap },
      netns: this.opts.netns,
    };
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

  /** The VM's tap goes (it no longer runs here); its address stays for when it runs again. */
  async unplugTap(id: string): Promise<void> {
    await this.network?.removeTap(tapName(id));
  }

  /** The VM's tap and address both go. */
  async unplug(w: Workload): Promise<void> {
    await this.network?.removeTap(tapName(w.vm.id));
    await this.network?.removeHost(w.vm.mac);
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
    await this.network?.close();
  }
}

function imagesOf(w: Workload): ImageRef[] {
  return [...(w.disk ? [w.disk] : []), ...(w.boot ? [w.boot.kernel, w.boot.initrd] : [])];
}
