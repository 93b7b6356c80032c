// What the service adds to a cluster member's workload: its private NIC (address and MAC from the
// cluster address book) and its cluster's network as the member's node joins it, with the peers
// that node's VXLAN must flood to: the underlay addresses of the other nodes holding members.
import { DriverError, type VmSpec } from '../driver.ts';
import type { ClusterAddressBook } from './cluster-address-book.ts';
import type { SeedNicPlan, Workload } from './protocol.ts';

export interface ClusterPlanning {
  book: ClusterAddressBook;
  /** A node's underlay address, as its agent reported it (vws agent --underlay). */
  underlayOf(node: string): string | undefined;
}

export const isClusterMember = (vm: VmSpec): boolean => vm.networks?.includes('private') ?? false;

/** The lease id of a VM id (`LEASE/INDEX`). */
export const leaseOfVm = (id: string): string => id.slice(0, id.lastIndexOf('/'));

/** The underlay addresses of `memberNodes` other than `node`. */
export function peersOf(p: ClusterPlanning, vmId: string, node: string, memberNodes: Iterable<string>): string[] {
  const peers = new Set<string>();
  for (const other of memberNodes) {
    if (other === node) continue;
    const address = p.underlayOf(other);
    if (!address) throw new DriverError(vmId, `node '${other}' holds members of its cluster but reports no underlay address: restart its agent with --underlay ADDRESS`);
    peers.add(address);
  }
  return [...peers].sort();
}

/**
 * `base` with the member's private parts, on `base.vm.node`. A private-only member has its private
 * NIC as its only one: its MAC and address are the VM's, so that its status reports that address.
 */
export function clusterWorkload(p: ClusterPlanning, base: Workload, memberNodes: Iterable<string>): Workload {
  const vm = base.vm;
  if (!isClusterMember(vm)) return base;
  if (!p.underlayOf(vm.node)) throw new DriverError(vm.id, `node '${vm.node}' reports no underlay address for cluster networks: restart its agent with --underlay ADDRESS`);
  const net = p.book.cluster(vm.leaseId);
  const member = p.book.member(vm.leaseId, vm.id);
  const cluster = {
    number: net.number, vni: net.vni, nodeAddress: p.book.node(vm.leaseId, vm.node), prefix: net.prefix,
    contextAddress: p.book.contextAddress(vm.leaseId), peers: peersOf(p, vm.id, vm.node, memberNodes),
  };
  // No DHCP hostname: the guest's NoCloud seed names it (its role's name is not known here).
  const nics = [{ network: 'private' as const, mac: member.mac, ip: member.ip }];
  if (vm.networks?.includes('public')) return { ...base, nics, cluster };
  return { ...base, vm: { ...vm, mac: member.mac }, ip: member.ip, nics, cluster, publicNic: false };
}

/**
 * The VM's NICs in the order QEMU gets them, each with its network and MAC (what a seed's
 * network-config matches); a private one with its cluster's context address (where the seed points
 * the member's context agent).
 */
export function nicsOf(w: Workload): SeedNicPlan[] {
  const context = w.cluster ? { contextAddress: w.cluster.contextAddress } : {};
  return [...(w.publicNic === false ? [] : [{ network: 'public' as const, mac: w.vm.mac }]), ...(w.nics ?? []).map((n) => ({ network: n.network, mac: n.mac, ...context }))];
}
