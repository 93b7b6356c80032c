// Who may send into a cluster's private network over the underlay. A VXLAN device takes any UDP
// packet to port 4789 with its VNI, from any source, and puts the frame inside onto the cluster's
// bridge: without a filter, anything that can reach a node's underlay address could inject frames
// into a cluster (forged ARP, packets to its members) past every tap guard, which only sees what
// the node's own VMs send. So each cluster's VNI is accepted only from the nodes that hold its
// members (its peers), and VXLAN traffic for other VNIs (another system's overlay on the same
// host) is left alone.
//
// One inet table, written whole in one `nft -f` transaction like the tap guards (tap-guards.ts).
import { writeFileSync } from 'node:fs';
import { formatIpv4, parseIpv4 } from './addresses.ts';
import { CommandFailed, type Commands } from './commands.ts';
import { MAX_VNI, VXLAN_PORT } from './cluster-spec.ts';
import { packetsByComment } from './tap-guards.ts';

export const UNDERLAY_TABLE = 'vws-underlay';
export const UNDERLAY_DROP = 'vxlan-from-non-peer';

export interface UnderlayCluster {
  vni: number;
  /** The underlay addresses of the other nodes holding members of the cluster. */
  peers: string[];
}

/** The table for these clusters; null when there are none (the table is removed). */
export function underlayRuleset(clusters: UnderlayCluster[], table = UNDERLAY_TABLE): string | null {
  if (clusters.length === 0) return null;
  const rules = [...clusters].sort((a, b) => a.vni - b.vni).map((c) => {
    if (!Number.isInteger(c.vni) || c.vni < 1 || c.vni > MAX_VNI) throw new Error(`VNI ${c.vni} is not an integer from 1 to ${MAX_VNI}`);
    const peers = [...new Set(c.peers.map((p) => formatIpv4(parseIpv4(p, `peer of VNI ${c.vni}`))))].sort();
    // The VNI is the 24 bits after the VXLAN header's flags and reserved bytes: 8 + 4 bytes into the UDP header.
    const match = `udp dport ${VXLAN_PORT} @th,96,24 ${c.vni}`;
    return peers.length > 0
      ? `    ${match} ip saddr != { ${peers.join(', ')} } counter drop comment "${UNDERLAY_DROP}"`
      : `    ${match} counter drop comment "${UNDERLAY_DROP}"`;
  });
  return [
    `table inet ${table} {}`,
    `delete table inet ${table}`,
    `table inet ${table} {`,
    '  chain input {',
    // Before any other filter of the host's: what is dropped here never reaches the VXLAN device.
    '    type filter hook input priority -150; policy accept;',
    ...rules,
    '  }',
    '}',
    '',
  ].join('\n');
}

export class UnderlayGuard {
  constructor(private readonly cmds: Commands, private readonly scriptFile: string, private readonly table = UNDERLAY_TABLE) {}

  /** The rules become exactly these clusters'. */
  async set(clusters: UnderlayCluster[]): Promise<void> {
    const text = underlayRuleset(clusters, this.table);
    if (text === null) return this.clear();
    writeFileSync(this.scriptFile, text);
    await this.cmds.exec('nft', ['-f', this.scriptFile]);
  }

  async clear(): Promise<void> {
    try {
      await this.cmds.exec('nft', ['delete', 'table', 'inet', this.table]);
    } catch (e) {
      if (!(e instanceof CommandFailed && /No such file or directory/.test(e.stderr))) throw e;
    }
  }

  /** Packets dropped so far, over all clusters (what tests and operators read). */
  async dropped(): Promise<number> {
    let out: string;
    try {
      out = await this.cmds.exec('nft', ['-j', 'list', 'table', 'inet', this.table]);
    } catch (e) {
      if (e instanceof CommandFailed && /No such file or directory/.test(e.stderr)) return 0;
      throw e;
    }
    return packetsByComment(out)[UNDERLAY_DROP] ?? 0;
  }
}
