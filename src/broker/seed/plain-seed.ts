// The seed of a workspace that has nothing but itself to go on (a plain lease, no broker wired):
// its instance-id, a hostname from its id, and its one NIC on the public network by DHCP.
// A broker or a lease with user-data and owner keys builds a fuller SeedInput and calls buildSeed.

import { hostnameOf, type NoCloudSeed } from './seed-input.ts';
import { buildSeed } from './seed.ts';

/** The name the guest gives the NIC on the site's network. */
export const PUBLIC_NIC = 'public';

export function plainSeed(vm: { id: string; mac: string }): NoCloudSeed {
  return buildSeed({ workspaceId: vm.id, hostname: hostnameOf(vm.id), nics: [{ name: PUBLIC_NIC, mac: vm.mac }] });
}
