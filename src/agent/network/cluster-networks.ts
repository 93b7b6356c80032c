// The private L2 networks of the clusters whose members run on this node. Each cluster has a bridge
// of its own here, joined to the same cluster's bridges on the other nodes by a VXLAN device with
// the cluster's VNI, sent by unicast to each peer node (static all-zeros FDB entries: head-end
// replication, no multicast on the underlay). A network is made when the first member of its
// cluster comes to this node and torn down when the last one leaves; like the node's own bridge it
// outlives the agent, which adopts it again from the spec it recorded.
//
// DHCP: one dnsmasq per cluster bridge, reusing NodeNetwork. One dnsmasq for every bridge would
// save a process per cluster, but its options (subnet, MTU, no router) differ per cluster, and a
// restart to add a cluster would interrupt every other cluster's DHCP; a process per cluster keeps
// each cluster's set-up and tear-down its own. DHCP does not cross the VXLAN (tap-guards.ts), so
// each node's dnsmasq serves only the members it runs.
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { formatIpv4, normalizeMac, Subnet } from './addresses.ts';
import { Commands } from './commands.ts';
import {
  checkClusterSpec, checkMember, clusterBridgeName, clusterVxlanName, VXLAN_OVERHEAD, VXLAN_PORT,
  type ClusterMember, type ClusterNetworkSpec,
} from './cluster-spec.ts';
import { deleteLink, listLinks } from './links.ts';
import { NodeNetwork } from './node-network.ts';
import type { LeaseListener } from './leases.ts';
import type { TapGuards } from './tap-guards.ts';
import { UnderlayGuard } from './underlay-guard.ts';

export interface ClusterNetworksConfig {
  netns?: string;
  /** Each cluster's state lives in DIR/cluster-<number>. */
  dir: string;
  /** The node's tap guards (the public network's). */
  guards: TapGuards;
  /** The underlay's MTU; the cluster networks carry VXLAN_OVERHEAD less. Default 1500. */
  underlayMtu?: number;
  /** Hears each address a guest takes on any cluster network (a private-only member's is its address). */
  onLease?: LeaseListener;
}

interface Record {
  spec: ClusterNetworkSpec;
  /** Members on this node, by MAC: a suspended one has no tap but keeps its place and address. */
  members: ClusterMember[];
}

const ZERO_MAC = '00:00:00:00:00:00';

export class ClusterNetworks {
  private readonly nets = new Map<number, { record: Record; network: NodeNetwork }>();
  private queue: Promise<unknown> = Promise.resolve();

  private readonly underlay: UnderlayGuard;

  private constructor(private readonly cfg: ClusterNetworksConfig, private readonly cmds: Commands) {
    this.underlay = new UnderlayGuard(cmds, join(cfg.dir, 'underlay.nft'));
  }

  /** Adopts the cluster networks recorded in `dir`, setting up again whatever of them is missing. */
  static async open(cfg: ClusterNetworksConfig): Promise<ClusterNetworks> {
    const nets = new ClusterNetworks({ ...cfg, dir: resolve(cfg.dir) }, new Commands(cfg.netns));
    mkdirSync(nets.cfg.dir, { recursive: true });
    for (const entry of readdirSync(nets.cfg.dir)) {
      const file = join(nets.cfg.dir, entry, 'cluster.json');
      if (!/^cluster-\d+$/.test(entry) || !existsSync(file)) continue;
      const record = JSON.parse(readFileSync(file, 'utf8')) as Record;
      // Recorded before clusters had a context address: theirs is the one the service assigns every
      // cluster (its subnet's first host), so the relay answers their members too after the upgrade.
      record.spec.contextAddress ??= formatIpv4(new Subnet(record.spec.nodeAddress, record.spec.prefix).network + 1);
      await nets.bringUp(checkClusterSpec(record.spec), record.members);
      // A member whose tap is still there is guarded again, even if the guards' record was lost.
      const live = new Set((await listLinks(nets.cmds)).map((l) => l.ifname));
      for (const m of record.members) if (live.has(m.tap)) await cfg.guards.set({ tap: m.tap, mac: m.mac, ip: m.ip });
    }
    return nets;
  }

  /** The numbers of the cluster networks on this node. */
  list(): number[] {
    return [...this.nets.keys()].sort((a, b) => a - b);
  }

  spec(n: number): ClusterNetworkSpec | undefined {
    return this.nets.get(n)?.record.spec;
  }

  /**
   * Puts a member on its cluster's network here: the network is made (or its peers updated) to
   * `spec`, the member's tap added with its guard, its address given to its MAC. Everything is
   * checked first; a network this call made is torn down again if any step fails.
   */
  async join(spec: ClusterNetworkSpec, member: ClusterMember): Promise<void> {
    const s = checkClusterSpec(spec);
    const m = checkMember(member, new Subnet(s.nodeAddress, s.prefix), s.contextAddress);
    return this.serial(async () => {
      const existing = this.nets.get(s.number);
      const was = existing?.record.spec;
      if (was && (was.vni !== s.vni || was.nodeAddress !== s.nodeAddress || was.prefix !== s.prefix || was.contextAddress !== s.contextAddress)) {
        throw new Error(`cluster network ${s.number} runs here with VNI ${was.vni} on ${was.nodeAddress}/${was.prefix} (context address ${was.contextAddress}): its last member must leave before the number is reused`);
      }
      const clash = existing?.record.members.find((o) => o.mac !== m.mac && (o.ip === m.ip || o.tap === m.tap));
      if (clash) throw new Error(`cluster network ${s.number} already has ${clash.mac} on ${clash.ip} (tap ${clash.tap})`);
      const others = existing?.record.members.filter((o) => o.mac !== m.mac) ?? [];
      // A member's workload carries the peers as they were when it started; the service has kept
      // the network's own up to date since (setPeers). A resumption must not put old ones back: a
      // peer dropped here cuts the member off from the cluster (no floods to it, its VXLAN refused).
      // Both lists, then: a peer too many only floods a node until the service's next list.
      const peers = existing ? [...new Set([...was!.peers, ...s.peers])].sort() : s.peers;
      try {
        const network = await this.bringUp({ ...s, peers }, others);
        await network.addTap(m.tap, { mac: m.mac, ip: m.ip });
        await network.setHost(m.mac, m.ip, m.hostname);
      } catch (e) {
        if (!existing) await this.tearDown(s.number).catch(() => undefined);
        throw e;
      }
      const net = this.nets.get(s.number)!;
      net.record.members = [...others, m];
      this.save(net.record);
    });
  }

  /** Unicast destinations for the cluster's broadcast and unknown frames: the nodes with members. */
  setPeers(n: number, peers: string[]): Promise<void> {
    return this.serial(async () => {
      const net = this.nets.get(n);
      if (!net) throw new Error(`cluster network ${n} is not on this node: a member must join it first`);
      const spec = checkClusterSpec({ ...net.record.spec, peers });
      await this.syncPeers(spec);
      net.record.spec = spec;
      this.save(net.record);
    });
  }

  /** The member's tap goes (suspended, or leaving); with `forget`, its address and place too. */
  unplug(n: number, tap: string, mac: string, forget: boolean): Promise<void> {
    return this.serial(async () => {
      const net = this.nets.get(n);
      if (!net) return;
      await net.network.removeTap(tap);
      if (!forget) return;
      await net.network.removeHost(mac);
      net.record.members = net.record.members.filter((m) => m.mac !== normalizeMac(mac));
      if (net.record.members.length === 0) await this.tearDown(n);
      else this.save(net.record);
    });
  }

  /** The tap of a suspended member goes, wherever it is; its network and address stay. */
  async unplugTap(tap: string): Promise<void> {
    const n = [...this.nets.values()].find((net) => net.record.members.some((m) => m.tap === tap))?.record.spec.number;
    if (n !== undefined) await this.unplug(n, tap, this.nets.get(n)!.record.members.find((m) => m.tap === tap)!.mac, false);
  }

  /** Lets go of the networks (they stay up for the members that run on). */
  async close(): Promise<void> {
    await this.queue.catch(() => undefined);
    for (const { network } of this.nets.values()) await network.close();
  }

  /** Every cluster network on this node goes (the node leaves the pool). */
  async tearDownAll(): Promise<void> {
    await this.queue.catch(() => undefined);
    for (const n of this.list()) await this.tearDown(n);
  }

  private async bringUp(spec: ClusterNetworkSpec, members: ClusterMember[]): Promise<NodeNetwork> {
    const bridge = clusterBridgeName(spec.number);
    const dir = join(this.cfg.dir, `cluster-${spec.number}`);
    const mtu = (this.cfg.underlayMtu ?? 1500) - VXLAN_OVERHEAD;
    let net = this.nets.get(spec.number);
    if (!net) {
      const network = await NodeNetwork.open({
        netns: this.cfg.netns, bridge, gateway: spec.nodeAddress, prefix: spec.prefix, dir, guards: this.cfg.guards, privateMtu: mtu,
        alsoAddress: spec.contextAddress,
      });
      if (this.cfg.onLease) network.onLease(this.cfg.onLease);
      // Known before the rest is made, so that a failure below tears down what open made.
      net = { record: { spec, members }, network };
      this.nets.set(spec.number, net);
    }
    await this.ensureVxlan(spec, bridge, mtu);
    await this.syncPeers(spec);
    net.record = { spec, members };
    this.save(net.record);
    return net.network;
  }

  private async ensureVxlan(spec: ClusterNetworkSpec, bridge: string, mtu: number): Promise<void> {
    const name = clusterVxlanName(spec.number);
    const out = await this.cmds.ip(['-j', '-d', 'link', 'show']);
    const found = (JSON.parse(out || '[]') as Array<{ ifname: string; linkinfo?: { info_kind?: string; info_data?: { id?: number; local?: string; port?: number } } }>).find((l) => l.ifname === name);
    const data = found?.linkinfo?.info_data;
    if (found && (found.linkinfo?.info_kind !== 'vxlan' || data?.id !== spec.vni || data?.local !== spec.local || data?.port !== VXLAN_PORT)) {
      if (found.linkinfo?.info_kind !== 'vxlan') throw new Error(`${name} exists but is not a VXLAN device: remove it, it is named like cluster network ${spec.number}'s`);
      await deleteLink(this.cmds, name);
    }
    if (!found || data?.id !== spec.vni || data?.local !== spec.local || data?.port !== VXLAN_PORT) {
      await this.cmds.ip(['link', 'add', name, 'type', 'vxlan', 'id', String(spec.vni), 'dstport', String(VXLAN_PORT), 'local', spec.local]);
    }
    await this.cmds.ip(['link', 'set', 'dev', name, 'mtu', String(mtu), 'master', bridge, 'up']);
  }

  /** The all-zeros FDB entries of the VXLAN device become exactly the peers. */
  private async syncPeers(spec: ClusterNetworkSpec): Promise<void> {
    // The underlay lets in this VNI from exactly these peers before they are flooded to.
    await this.guardUnderlay(spec);
    const dev = clusterVxlanName(spec.number);
    const entries = JSON.parse((await this.cmds.exec('bridge', ['-j', 'fdb', 'show', 'dev', dev])) || '[]') as Array<{ mac: string; dst?: string }>;
    const have = new Set(entries.filter((e) => e.mac === ZERO_MAC && e.dst).map((e) => e.dst!));
    for (const peer of spec.peers) if (!have.has(peer)) await this.cmds.exec('bridge', ['fdb', 'append', ZERO_MAC, 'dev', dev, 'dst', peer]);
    for (const gone of have) if (!spec.peers.includes(gone)) await this.cmds.exec('bridge', ['fdb', 'del', ZERO_MAC, 'dev', dev, 'dst', gone]);
  }

  private async tearDown(n: number): Promise<void> {
    const dir = join(this.cfg.dir, `cluster-${n}`);
    const net = this.nets.get(n);
    this.nets.delete(n);
    await net?.network.tearDown();
    // Made only in part (NodeNetwork.open failed): its bridge may be there without it.
    if (!net && (await listLinks(this.cmds)).find((l) => l.ifname === clusterBridgeName(n))?.kind === 'bridge') await deleteLink(this.cmds, clusterBridgeName(n));
    // Only our own kind of device: a foreign one with the name (why a join failed) is not ours to remove.
    const vx = (await listLinks(this.cmds)).find((l) => l.ifname === clusterVxlanName(n));
    if (vx?.kind === 'vxlan') await deleteLink(this.cmds, vx.ifname);
    await this.guardUnderlay();
    rmSync(dir, { recursive: true, force: true });
  }

  /** The underlay's filter for every cluster network here, `changed` as it is about to be. */
  private guardUnderlay(changed?: ClusterNetworkSpec): Promise<void> {
    const specs = new Map([...this.nets.values()].map(({ record }) => [record.spec.number, record.spec]));
    if (changed) specs.set(changed.number, changed);
    return this.underlay.set([...specs.values()].map((s) => ({ vni: s.vni, peers: s.peers })));
  }

  /** Packets from the underlay dropped because they came for a cluster's VNI from a node that is not its peer. */
  underlayDrops(): Promise<number> {
    return this.underlay.dropped();
  }

  private save(record: Record): void {
    const file = join(this.cfg.dir, `cluster-${record.spec.number}`, 'cluster.json');
    writeFileSync(`${file}.tmp`, JSON.stringify(record));
    renameSync(`${file}.tmp`, file);
  }

  private serial<T>(fn: () => Promise<T>): Promise<T> {
    const next = this.queue.then(fn);
    this.queue = next.catch(() => undefined);
    return next;
  }
}

/** Whether links of a cluster network remain (for tests and the operator's check). */
export async function clusterLinks(cmds: Commands, n: number): Promise<string[]> {
  return (await listLinks(cmds)).map((l) => l.ifname).filter((name) => name === clusterBridgeName(n) || name === clusterVxlanName(n));
}
