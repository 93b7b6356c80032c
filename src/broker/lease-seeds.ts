// Each VM's NoCloud seed from its lease: the host name its workspace row shows, the owner's ssh
// keys and the lease's own user-data, as the lease was asked for (src/seed builds the files).
// The context broker's part (a secret, its URL and key) joins here once it is wired.

import { PUBLIC_NIC, plainSeed } from '../seed/plain-seed.ts';
import { buildSeed } from '../seed/seed.ts';
import type { SeedSource } from '../drivers/qemu/protocol.ts';
import type { Store } from '../store/store.ts';
import { workspaceNaming } from '../control/workspace-names.ts';

/** Seeds read from the store: a VM whose lease it does not have (none should) gets the plain seed. */
export function leaseSeeds(store: Store): SeedSource {
  return async (vm, nics) => {
    const lease = await store.getLease(vm.leaseId);
    if (!lease) return plainSeed(vm, nics);
    const req = lease.request;
    return buildSeed({
      workspaceId: vm.id,
      hostname: workspaceNaming(vm.leaseId, vm.index, req.roles).hostname,
      // A cluster member's NICs by network (public first, then private), matched by MAC; else its one public NIC.
      nics: nics?.length ? nics.map((n) => ({ name: n.network, mac: n.mac })) : [{ name: PUBLIC_NIC, mac: vm.mac }],
      ...(req.sshPublicKeys && req.sshPublicKeys.length > 0 ? { sshKeys: [...req.sshPublicKeys] } : {}),
      ...(req.userData !== undefined ? { userData: req.userData } : {}),
    });
  };
}
