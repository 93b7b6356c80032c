// The seed of a workspace that has nothing but itself to go on (a plain lease, no broker wired):
// its instance-id, a hostname from its id, and its one NIC on the public network by DHCP.
// A broker or a lease with user-data and owner keys builds a fuller SeedInput and calls buildSeed.

import { hostnameOf, type NoCloudSeed } from './seed-input.ts';
import { buildSeed } from './seed.ts';

/** The name the guest gives the NIC on the site's network. */
export const PUBLIC_NIC = 'public';

/**
 * With `nics` (a cluster member's, see src/drivers/qemu/cluster-plans.ts nicsOf), each NIC is named
 * by its network ('public', 'private') and matched by its MAC.
 */
export function plainSeed(vm: { id: string; mac: string }, nics?: Array<{ network: 'public' | 'private'; mac: string }>): NoCloudSeed {
  const named = nics?.length ? nics.map((n) => ({ name: n.network, mac: n.mac })) : [{ name: PUBLIC_NIC, mac: vm.mac }];
  return buildSeed({ workspaceId: vm.id, hostname: hostnameOf(vm.id), nics: named });
}
