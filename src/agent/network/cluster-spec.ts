// What the service tells an agent about one cluster's private network, and the checks every field
// passes before any of it reaches `ip`, `bridge` or dnsmasq: the service is trusted, but a bug or a
// mismatched version there must fail here with the field's name, not as a half-made network.
import { createHash } from 'node:crypto';
import { checkHostname, checkIfname, formatIpv4, normalizeMac, parseIpv4, shown, Subnet } from './addresses.ts';
import { PRIVATE_TAP_PREFIX } from './tap-guards.ts';

/** Cluster bridges are `vwc<number>`, their VXLAN ports `vwx<number>`: 3 + 8 digits fits 15 bytes. */
export const MAX_CLUSTER_NUMBER = 99_999_999;
/** VXLAN network identifiers are 24 bits; 0 is left unused. */
export const MAX_VNI = 0xff_ffff;
/** A node holds members of a cluster with, at most, this many other nodes. */
export const MAX_PEERS = 1024;
/** The IANA VXLAN port. */
export const VXLAN_PORT = 4789;
/** What VXLAN over IPv4 adds to each frame: outer IPv4 20 + UDP 8 + VXLAN 8 + inner Ethernet 14. */
export const VXLAN_OVERHEAD = 50;

export interface ClusterNetworkSpec {
  /** The cluster's network number, assigned by the service; names the bridge and VXLAN device. */
  number: number;
  vni: number;
  /** This node's address on the cluster subnet (its DHCP server's), and the subnet's prefix. */
  nodeAddress: string;
  prefix: number;
  /**
   * The cluster's context address: the same on every node's bridge (beside the node's own), where
   * each node's context relay answers the members it runs (see context-relay.ts).
   */
  contextAddress: string;
  /** This node's underlay address, where the other nodes' VXLAN packets arrive. */
  local: string;
  /** The underlay addresses of the other nodes that hold members of this cluster. */
  peers: string[];
}

export interface ClusterMember {
  /** The VM's tap on the cluster bridge (see privateTapName). */
  tap: string;
  mac: string;
  ip: string;
  hostname?: string;
}

export const clusterBridgeName = (n: number): string => `vwc${n}`;
export const clusterVxlanName = (n: number): string => `vwx${n}`;

/** A VM's tap on its cluster's bridge: like tapName, with the prefix the guards' input rule knows. */
export function privateTapName(vmId: string): string {
  return PRIVATE_TAP_PREFIX + createHash('sha256').update(`private:${vmId}`).digest('hex').slice(0, 10);
}

function checkInt(value: unknown, what: string, min: number, max: number): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
    throw new Error(`${what} ${shown(value)} must be an integer from ${min} to ${max}`);
  }
  return value;
}

function checkUnderlay(value: unknown, what: string): string {
  if (typeof value !== 'string') throw new Error(`${what} must be an IPv4 address string, got ${shown(value)}`);
  const n = parseIpv4(value, what);
  if (n === 0 || n >>> 24 === 127 || n >>> 28 >= 0xe) throw new Error(`${what} ${value} is not a unicast address another node can be reached at`);
  return formatIpv4(n);
}

/** The spec in canonical form, or an error naming the first bad field. */
export function checkClusterSpec(spec: ClusterNetworkSpec): ClusterNetworkSpec {
  if (typeof spec !== 'object' || spec === null) throw new Error('a cluster network spec must be an object');
  const number = checkInt(spec.number, 'cluster network number', 1, MAX_CLUSTER_NUMBER);
  const vni = checkInt(spec.vni, `VNI of cluster network ${number}`, 1, MAX_VNI);
  const prefix = checkInt(spec.prefix, `prefix of cluster network ${number}`, 8, 30);
  if (typeof spec.nodeAddress !== 'string') throw new Error(`node address of cluster network ${number} must be an IPv4 address string, got ${shown(spec.nodeAddress)}`);
  const subnet = new Subnet(spec.nodeAddress, prefix);
  const contextAddress = checkContextAddress(spec.contextAddress, subnet, number);
  const local = checkUnderlay(spec.local, `underlay address of this node for cluster network ${number}`);
  if (!Array.isArray(spec.peers) || spec.peers.length > MAX_PEERS) throw new Error(`peers of cluster network ${number} must be a list of at most ${MAX_PEERS} addresses`);
  const peers = [...new Set(spec.peers.map((p, i) => checkUnderlay(p, `peer ${i} of cluster network ${number}`)))];
  if (peers.includes(local)) throw new Error(`peers of cluster network ${number} include this node's own address ${local}`);
  return { number, vni, nodeAddress: formatIpv4(subnet.gatewayAddress), prefix, contextAddress, local, peers: peers.sort() };
}

/** A host address of the subnet other than the node's own (Subnet.guestAddress says which rule failed). */
function checkContextAddress(value: unknown, subnet: Subnet, number: number): string {
  if (typeof value !== 'string') throw new Error(`context address of cluster network ${number} must be an IPv4 address string, got ${shown(value)}`);
  try {
    return subnet.guestAddress(value);
  } catch (e) {
    throw new Error(`context address of cluster network ${number}: ${(e as Error).message}`, { cause: e });
  }
}

export function checkMember(m: ClusterMember, subnet: Subnet, contextAddress?: string): ClusterMember {
  if (typeof m !== 'object' || m === null) throw new Error('a cluster member must be an object');
  const tap = checkIfname(m.tap, 'private tap');
  if (!tap.startsWith(PRIVATE_TAP_PREFIX)) throw new Error(`private tap ${shown(tap)} must be named ${PRIVATE_TAP_PREFIX}... (see privateTapName) so the node's filters know it`);
  const member: ClusterMember = { tap, mac: normalizeMac(m.mac), ip: subnet.guestAddress(m.ip) };
  if (member.ip === contextAddress) throw new Error(`member address ${member.ip} is the cluster's context address (every member node's relay answers there): give the member another`);
  if (m.hostname !== undefined) member.hostname = checkHostname(m.hostname);
  return member;
}
