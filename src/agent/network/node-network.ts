// The node agent's network for its VMs: a bridge it owns, a tap per VM on that bridge, and a
// dnsmasq that gives each VM's MAC the address the service assigned it, and nothing to any other
// MAC. Everything is left running when the agent stops (close) so VMs keep their network while the
// agent restarts; only tearDown, for a node leaving the pool, removes it.
import { chmodSync, existsSync, mkdirSync, rmSync, statSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { checkHostname, checkIfname, normalizeMac, Subnet } from './addresses.ts';
import { Commands } from './commands.ts';
import { readDhcpHosts, writeDhcpHosts, type DhcpHost } from './dhcp-hosts.ts';
import { sendDhcpRelease } from './dhcp-release.ts';
import { dnsmasqArgs, dnsmasqFiles, ensureDnsmasq, findDnsmasq, reloadHosts, stopDnsmasq, tail, type DnsmasqFiles } from './dnsmasq.ts';
import { readLeases, LeaseWatcher, type LeaseListener } from './leases.ts';
import { deleteLink, ensureBridge, ensureTap, findLink, isTap, listLinks, TAP_PREFIX } from './links.ts';
import { checkGuard, TapGuards } from './tap-guards.ts';
import { SHAPER_PREFIX } from './tap-shaper.ts';
import { waitUntil } from './wait-until.ts';

export { tapName } from './links.ts';

export interface NodeNetworkConfig {
  /** Run everything in this network namespace (tests); none = the host. */
  netns?: string;
  /** The bridge the agent owns, e.g. 'vwsbr0'. */
  bridge: string;
  /** The bridge's address, which guests get as their router, e.g. '10.77.0.1'. */
  gateway: string;
  /** Prefix length of the bridge subnet, e.g. 24. */
  prefix: number;
  /** The agent's network state dir: dnsmasq's pid, hosts, lease and log files. */
  dir: string;
  /**
   * The node's tap filters, when another network of the node already keeps them (a cluster
   * network shares the public one's); otherwise this network keeps its own, in `dir`.
   */
  guards?: TapGuards;
  /**
   * A private network's DHCP: no router (a guest keeps its default route on its public NIC, or has
   * none) and this MTU (a VXLAN-joined bridge carries 50 bytes less than the underlay).
   */
  privateMtu?: number;
  /**
   * A second address of the subnet on the bridge (a cluster's context address, where the node's
   * context relay answers its members); the bridge keeps `gateway` as its primary, DHCP's.
   */
  alsoAddress?: string;
}

const RELEASE_DEADLINE_MS = 10_000;

export class NodeNetwork {
  private queue: Promise<unknown> = Promise.resolve();
  private closed = false;
  private readonly watcher: LeaseWatcher;

  private constructor(
    readonly config: NodeNetworkConfig,
    private readonly cmds: Commands,
    private readonly subnet: Subnet,
    private readonly files: DnsmasqFiles,
    /** The filters on the node's taps (see tap-guards.ts). */
    readonly guards: TapGuards,
    private readonly ownsGuards: boolean,
  ) {
    this.watcher = new LeaseWatcher(files.leases);
  }

  /**
   * Makes sure the bridge and dnsmasq are there, creating what is missing and adopting what runs
   * (after an agent restart nothing is torn down: VMs keep their taps, addresses and leases).
   */
  static async open(cfg: NodeNetworkConfig): Promise<NodeNetwork> {
    checkIfname(cfg.bridge, 'bridge');
    const subnet = new Subnet(cfg.gateway, cfg.prefix);
    const dir = resolve(cfg.dir);
    const files = dnsmasqFiles(dir);
    prepareStateDir(dir, files);
    const cmds = new Commands(cfg.netns);
    const guards = cfg.guards ?? (await TapGuards.open(cmds, `${dir}/tap-guards.json`, new Set((await listLinks(cmds)).filter(isTap).map((l) => l.ifname))));
    const network = new NodeNetwork({ ...cfg, dir }, cmds, subnet, files, guards, !cfg.guards);
    await ensureBridge(network.cmds, cfg.bridge, subnet, cfg.alsoAddress === undefined ? undefined : subnet.guestAddress(cfg.alsoAddress));
    await network.dnsmasq();
    return network;
  }

  /** The running dnsmasq's pid, if one runs. */
  get dnsmasqPid(): number | undefined {
    return findDnsmasq(this.files)?.pid;
  }

  /**
   * A tap named `name` (see tapName) on the bridge and up, for a VM's QEMU to open; with `guard`,
   * passing only frames from that MAC and address (see tap-guards.ts). A guard that cannot be set
   * leaves no new tap behind.
   */
  async addTap(name: string, guard?: { mac: string; ip: string }): Promise<void> {
    const checked = guard && checkGuard({ tap: name, mac: guard.mac, ip: this.subnet.guestAddress(guard.ip) });
    return this.serial(async () => {
      const existed = (await findLink(this.cmds, checkIfname(name, 'tap'))) !== undefined;
      await ensureTap(this.cmds, name, this.config.bridge);
      if (!checked) return;
      try {
        await this.guards.set(checked);
      } catch (e) {
        if (!existed) await deleteLink(this.cmds, name);
        throw e;
      }
    });
  }

  removeTap(name: string): Promise<void> {
    return this.serial(async () => {
      checkIfname(name, 'tap');
      const link = await findLink(this.cmds, name);
      if (!link) return;
      if (!isTap(link)) throw new Error(`${name} is ${link.kind ? `a ${link.kind} device` : 'not a tap'}: refusing to delete it as a VM's tap`);
      // The filter goes first: a tap is never left up without its guard.
      await this.guards.remove(name);
      await deleteLink(this.cmds, name);
    });
  }

  /**
   * Has dnsmasq give `ip` to `mac` (and `hostname`, if given). Resolves once dnsmasq has reread its
   * hosts: a guest asking from then on gets the address.
   */
  setHost(mac: string, ip: string, hostname?: string): Promise<void> {
    return this.serial(async () => {
      const entry: DhcpHost = { mac: normalizeMac(mac), ip: this.subnet.guestAddress(ip) };
      if (hostname !== undefined) entry.hostname = checkHostname(hostname);
      const hosts = readDhcpHosts(this.files.hosts);
      const clash = hosts.find((h) => h.ip === entry.ip && h.mac !== entry.mac);
      if (clash) throw new Error(`${entry.ip} is already assigned to ${clash.mac}: removeHost('${clash.mac}') before giving it to ${entry.mac}`);
      const current = hosts.find((h) => h.mac === entry.mac);
      if (!current || current.ip !== entry.ip || current.hostname !== entry.hostname) {
        writeDhcpHosts(this.files.hosts, [...hosts.filter((h) => h.mac !== entry.mac), entry]);
        await reloadHosts(await this.dnsmasq(), this.files);
        if (current && current.ip !== entry.ip) await this.forgetNeighbour(current.ip);
      }
      // Only a MAC no longer assigned this address can hold a lease on it (a VM removed without
      // removeHost, say); dnsmasq would refuse the address to `mac` until that lease ran out.
      const holder = [...readLeases(this.files.leases)].find(([m, leased]) => leased === entry.ip && m !== entry.mac);
      if (holder) await this.release(holder[0], entry.ip);
    });
  }

  /** Forgets `mac`: no more address for it, and its lease ends so its address can be reassigned. */
  removeHost(mac: string): Promise<void> {
    return this.serial(async () => {
      const m = normalizeMac(mac);
      const hosts = readDhcpHosts(this.files.hosts);
      const entry = hosts.find((h) => h.mac === m);
      if (entry) {
        writeDhcpHosts(this.files.hosts, hosts.filter((h) => h.mac !== m));
        await reloadHosts(await this.dnsmasq(), this.files);
        await this.forgetNeighbour(entry.ip);
      }
      const leased = readLeases(this.files.leases).get(m);
      if (leased) await this.release(m, leased);
      this.watcher.forget(m);
    });
  }

  /** mac -> ip of the leases guests hold now, from dnsmasq's lease file. */
  leases(): Map<string, string> {
    return readLeases(this.files.leases);
  }

  /**
   * Calls `listener` when a guest takes a lease, or renews to a different address, from now on
   * (leases already held are in leases()). Returns the function that stops it.
   */
  onLease(listener: LeaseListener): () => void {
    if (this.closed) throw this.closedError();
    return this.watcher.subscribe(listener);
  }

  /** Stops watching leases. The bridge, taps and dnsmasq stay: VMs keep their network. */
  async close(): Promise<void> {
    this.closed = true;
    this.watcher.stop();
    await this.queue.catch(() => undefined);
  }

  /** Removes it all: dnsmasq, every tap on the bridge or named by tapName, the bridge, the state files. */
  async tearDown(): Promise<void> {
    this.closed = true;
    this.watcher.stop();
    await this.queue.catch(() => undefined);
    const running = findDnsmasq(this.files);
    if (running) await stopDnsmasq(running.pid);
    for (const link of await listLinks(this.cmds)) {
      // Strays named like the public network's taps are its own only: a cluster network shares the
      // node with it and with other clusters, and takes only what hangs on its bridge.
      if (isTap(link) && (link.master === this.config.bridge || (this.ownsGuards && link.ifname.startsWith(TAP_PREFIX)))) {
        await this.guards.remove(link.ifname);
        await deleteLink(this.cmds, link.ifname);
      }
      // The ifb devices that shaped what VMs sent (tap-shaper.ts): the public network's to remove, as its taps.
      if (this.ownsGuards && link.kind === 'ifb' && link.ifname.startsWith(SHAPER_PREFIX)) await deleteLink(this.cmds, link.ifname);
    }
    await deleteLink(this.cmds, this.config.bridge);
    // The log stays, as the record of what happened.
    for (const f of [this.files.pid, this.files.hosts, `${this.files.hosts}.tmp`, this.files.leases]) rmSync(f, { force: true });
    if (this.ownsGuards) await this.guards.tearDown();
  }

  /** The running dnsmasq, started again if it died (it reads the hosts and lease files as it starts). */
  private dnsmasq(): Promise<number> {
    const args = dnsmasqArgs(this.config.bridge, this.subnet, this.files);
    // An empty option 3 sends no router; option 26 is the interface MTU.
    const mtu = this.config.privateMtu;
    return ensureDnsmasq(this.cmds, mtu === undefined ? args : [...args, '--dhcp-option=3', `--dhcp-option=26,${mtu}`], this.files);
  }

  private async release(mac: string, ip: string): Promise<void> {
    await sendDhcpRelease(this.cmds, mac, ip, this.subnet.gateway);
    await waitUntil(
      () => readLeases(this.files.leases).get(mac) !== ip,
      RELEASE_DEADLINE_MS,
      () => new Error(`dnsmasq kept the lease of ${mac} on ${ip} after a DHCPRELEASE sent to ${this.subnet.gateway} (is lo up?); its log ${this.files.log} ends: ${tail(this.files.log)}`),
    );
    await this.forgetNeighbour(ip);
  }

  /**
   * Drops the node's ARP entry for an address whose guest is gone: the next guest given the address
   * has another MAC, and until a stale entry times out the node would send that guest's traffic to
   * the old MAC.
   */
  private async forgetNeighbour(ip: string): Promise<void> {
    await this.cmds.ip(['neigh', 'flush', 'to', ip, 'dev', this.config.bridge]);
  }

  /** One change at a time: a hosts-file rewrite and its reload must not interleave with another. */
  private serial<T>(fn: () => Promise<T>): Promise<T> {
    if (this.closed) return Promise.reject(this.closedError());
    const next = this.queue.then(fn);
    this.queue = next.catch(() => undefined);
    return next;
  }

  private closedError(): Error {
    return new Error(`the network of ${this.config.bridge} was closed: NodeNetwork.open() it again`);
  }
}

/** The state dir, and the empty hosts file dnsmasq needs before it starts. */
function prepareStateDir(dir: string, files: DnsmasqFiles): void {
  if (mkdirSync(dir, { recursive: true }) !== undefined) chmodSync(dir, 0o755); // ours: whatever the umask
  // dnsmasq rereads the hosts file on SIGHUP as user nobody, so the file must be reachable by others;
  // better to say so now than when the first VM asks for its address.
  for (let d = dir; ; d = dirname(d)) {
    if ((statSync(d).mode & 0o001) === 0) {
      throw new Error(`${d} is not searchable by others (chmod o+x ${d}, or choose another network state dir): dnsmasq runs as user nobody and must reread ${files.hosts}`);
    }
    if (d === dirname(d)) break;
  }
  if (!existsSync(files.hosts)) writeDhcpHosts(files.hosts, []);
  else chmodSync(files.hosts, 0o644);
}
