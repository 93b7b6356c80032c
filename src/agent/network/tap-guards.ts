// The trusted networking layer: each VM's tap passes only what that VM may say. A guest is root in
// its own kernel, so it can change its address, forge its MAC or answer ARP for a neighbour's IP;
// without a filter on the host side of its tap that would let it take over another member's
// traffic. nftables' bridge family sees every frame as it enters the bridge from a tap, before it is
// switched, so a forged frame is dropped before it reaches anyone.
//
// What passes from a tap: frames whose source MAC is the VM's; ARP whose sender MAC is the VM's and
// whose sender IP is the VM's (or 0.0.0.0, an address probe, which nobody learns from); IPv4 from
// the VM's address, and DHCP's DISCOVER/REQUEST from 0.0.0.0 to broadcast (how it gets that address).
// Everything else is dropped: other ether types too (IPv6, VLAN tags, ...), since the service assigns
// no IPv6 address there is none to check a frame against; only QEMU's RARP announcement passes.
//
// The whole table is written in one `nft -f` transaction from the record of guards: a change never
// leaves half a rule set, and the same call adds what is missing and removes what belongs to a tap
// that is gone, which is what reconciling after an agent restart needs.
import { existsSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { checkIfname, formatIpv4, normalizeMac, parseIpv4 } from './addresses.ts';
import { CommandFailed, type Commands } from './commands.ts';
import { CONTEXT_RELAY_PORT } from '../../drivers/qemu/protocol.ts';

export const GUARD_TABLE = 'vws';
/** VXLAN devices of cluster networks are named with this prefix (see cluster-network.ts). */
export const VXLAN_PREFIX = 'vwx';
/** VMs' taps on cluster networks are named with this prefix (see cluster-network.ts). */
export const PRIVATE_TAP_PREFIX = 'vwp';

export interface TapGuard {
  tap: string;
  mac: string;
  ip: string;
}

/** The guard in canonical form, or an error naming the bad field. */
export function checkGuard(g: TapGuard): TapGuard {
  const tap = checkIfname(g.tap, 'tap');
  const mac = normalizeMac(g.mac);
  const n = parseIpv4(g.ip, `address of tap ${tap}`);
  // A VM's own address is a unicast host address: 0.0.0.0, broadcast and multicast would let it
  // claim what belongs to everyone.
  if (n === 0 || n === 0xffffffff || n >>> 28 === 0xe) throw new Error(`address ${g.ip} of tap ${tap} is not a unicast host address`);
  return { tap, mac, ip: formatIpv4(n) };
}

const chainOf = (tap: string): string => `guard-${tap}`;

/** The whole table as one nft transaction: replaces whatever the table held. */
export function guardRuleset(guards: TapGuard[], table = GUARD_TABLE): string {
  const lines = [
    // Declared, then deleted, then written: atomic, and works whether the table existed or not.
    `table bridge ${table} {}`,
    `delete table bridge ${table}`,
    `table bridge ${table} {`,
    '  chain prerouting {',
    '    type filter hook prerouting priority -200; policy accept;',
    ...guards.map((g) => `    iifname "${g.tap}" jump ${chainOf(g.tap)}`),
    '  }',
    // DHCP stays on its node: each node's dnsmasq serves only the members it runs, and one node's
    // server must never answer (or NAK) another node's guest over the cluster's VXLAN.
    '  chain forward {',
    '    type filter hook forward priority 0; policy accept;',
    `    iifname "${VXLAN_PREFIX}*" udp dport { 67, 68 } counter drop comment "dhcp-stays-on-node"`,
    `    oifname "${VXLAN_PREFIX}*" udp dport { 67, 68 } counter drop comment "dhcp-stays-on-node"`,
    '  }',
    // The node's own dnsmasq answers are sent, not forwarded: a broadcast one would flood to the
    // other nodes' members through the VXLAN port.
    '  chain output {',
    '    type filter hook output priority 0; policy accept;',
    `    oifname "${VXLAN_PREFIX}*" udp sport 67 counter drop comment "dhcp-stays-on-node"`,
    '  }',
    // A node has an address on each cluster bridge only to serve DHCP and the context relay: a
    // guest of a private network must not reach the node's other services (the agent's ports).
    // (By the port a frame came in on: the kernel's bridge family cannot match the bridge's name.)
    '  chain input {',
    '    type filter hook input priority 0; policy accept;',
    // Every member node has the cluster's context address on its bridge: a member must find its
    // own node's relay there, so a node answers ARP only for the members it runs. A broadcast
    // request from another node is still flooded to the local taps (forward, not input), so
    // members still find each other across nodes.
    `    iifname "${VXLAN_PREFIX}*" ether type arp counter drop comment "context-address-stays-on-node"`,
    // The relay is the one service of the node its own members may reach (it forwards only the
    // context broker's guest routes); nothing from another node's members comes this way.
    `    iifname "${PRIVATE_TAP_PREFIX}*" ether type ip tcp dport ${CONTEXT_RELAY_PORT} counter accept comment "member-to-context-relay"`,
    ...[PRIVATE_TAP_PREFIX, VXLAN_PREFIX].flatMap((p) => [
      `    iifname "${p}*" ether type ip udp dport 67 accept`,
      `    iifname "${p}*" ether type ip counter drop comment "node-not-on-private-network"`,
    ]),
    '  }',
    ...guards.flatMap((g) => [
      `  chain ${chainOf(g.tap)} {`,
      `    ether saddr != ${g.mac} counter drop comment "other-mac"`,
      `    ether type arp arp saddr ether != ${g.mac} counter drop comment "arp-other-mac"`,
      `    ether type arp arp saddr ip != { ${g.ip}, 0.0.0.0 } counter drop comment "arp-other-ip"`,
      '    ether type ip ip saddr 0.0.0.0 ip daddr 255.255.255.255 udp sport 68 udp dport 67 accept comment "dhcp-client"',
      `    ether type ip ip saddr != ${g.ip} counter drop comment "ip-other-address"`,
      // RARP (0x8035) is what QEMU announces a VM's new place with after a live migration; its
      // source MAC was checked above, and nothing learns addresses from it.
      '    ether type != { ip, arp, 0x8035 } counter drop comment "not-ipv4-or-arp"',
      '  }',
    ]),
    '}',
  ];
  return `${lines.join('\n')}\n`;
}

/** Packets dropped by each rule of a tap's chain, by the rule's comment (what the tests read). */
export type DropCounts = Record<string, number>;

interface NftJson {
  nftables: Array<{ rule?: { chain: string; comment?: string; expr: Array<{ counter?: { packets: number } }> } }>;
}

/** The packets counted by each commented rule in `nft -j list ...` output, summed over rules that share a comment. */
export function packetsByComment(nftJson: string): DropCounts {
  const counts: DropCounts = {};
  for (const { rule } of (JSON.parse(nftJson) as NftJson).nftables) {
    const packets = rule?.expr.find((e) => e.counter)?.counter?.packets;
    if (rule?.comment && packets !== undefined) counts[rule.comment] = (counts[rule.comment] ?? 0) + packets;
  }
  return counts;
}

export class TapGuards {
  private queue: Promise<unknown> = Promise.resolve();
  private guards = new Map<string, TapGuard>();

  private constructor(
    private readonly cmds: Commands,
    private readonly file: string,
    private readonly table: string,
  ) {}

  /**
   * Reads the record, forgets taps that are gone and writes the table afresh: after an agent
   * restart the rules match the taps that exist, whatever the table held.
   */
  static async open(cmds: Commands, file: string, liveTaps: Set<string>, table = GUARD_TABLE): Promise<TapGuards> {
    const guards = new TapGuards(cmds, file, table);
    for (const g of readRecord(file)) if (liveTaps.has(g.tap)) guards.guards.set(g.tap, g);
    await guards.apply();
    return guards;
  }

  list(): TapGuard[] {
    return [...this.guards.values()];
  }

  /** Guards `guard.tap` (checked first: a bad field changes nothing). */
  async set(guard: TapGuard): Promise<void> {
    const g = checkGuard(guard);
    return this.serial(async () => {
      const before = this.guards.get(g.tap);
      if (before && before.mac === g.mac && before.ip === g.ip) return;
      this.guards.set(g.tap, g);
      try {
        await this.apply();
      } catch (e) {
        if (before) this.guards.set(g.tap, before);
        else this.guards.delete(g.tap);
        throw e;
      }
    });
  }

  remove(tap: string): Promise<void> {
    return this.serial(async () => {
      if (!this.guards.delete(tap)) return;
      await this.apply();
    });
  }

  /** Drops per rule of `tap`'s chain. */
  async drops(tap: string): Promise<DropCounts> {
    return packetsByComment(await this.cmds.exec('nft', ['-j', 'list', 'chain', 'bridge', this.table, chainOf(tap)]));
  }

  /** The table and the record go (the node leaves the pool). */
  tearDown(): Promise<void> {
    return this.serial(async () => {
      this.guards.clear();
      try {
        await this.cmds.exec('nft', ['delete', 'table', 'bridge', this.table]);
      } catch (e) {
        if (!(e instanceof CommandFailed && /No such file or directory/.test(e.stderr))) throw e;
      }
      for (const f of [this.file, `${this.file}.nft`]) rmSync(f, { force: true });
    });
  }

  private async apply(): Promise<void> {
    const script = `${this.file}.nft`;
    writeFileSync(script, guardRuleset(this.list(), this.table));
    await this.cmds.exec('nft', ['-f', script]);
    // The record is written only once the kernel took the rules, so it never claims more than runs.
    const tmp = `${this.file}.tmp`;
    writeFileSync(tmp, JSON.stringify(this.list()));
    renameSync(tmp, this.file);
  }

  private serial<T>(fn: () => Promise<T>): Promise<T> {
    const next = this.queue.then(fn);
    this.queue = next.catch(() => undefined);
    return next;
  }
}

function readRecord(file: string): TapGuard[] {
  if (!existsSync(file)) return [];
  let parsed: unknown;
  try {
    parsed = JSON.parse(readFileSync(file, 'utf8'));
  } catch (e) {
    throw new Error(`${file} is not the JSON the agent writes (${(e as Error).message}): delete it and restart the agent to rebuild the tap guards from the VMs`, { cause: e });
  }
  if (!Array.isArray(parsed)) throw new Error(`${file} should hold a list of tap guards: delete it and restart the agent`);
  return parsed.map((g) => checkGuard(g as TapGuard));
}
