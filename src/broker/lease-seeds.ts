// Each VM's NoCloud seed from its lease: the host name its workspace row shows, the owner's ssh
// keys and the lease's own user-data, as the lease was asked for (src/seed builds the files).
// A cluster member's seed also carries its context agent's part: a secret made for it as the seed
// is made (the broker keeps only hashes, so none could be put in a seed again), the service's
// URL as guests reach it, the agent's URL and sha256, and the key contexts are signed with.
// A member with a NIC on its cluster's private network reaches the service through its node's
// context relay, at the cluster's context address: every node holding members has it, so the URL
// stays right when the member is suspended and resumed or migrated elsewhere (the seed is made
// once). A private-only member has no other way: its network has no router.

import { PUBLIC_NIC, plainSeed } from '../seed/plain-seed.ts';
import { buildSeed } from '../seed/seed.ts';
import type { SeedBroker } from '../seed/seed-input.ts';
import { CONTEXT_RELAY_PORT, type SeedNicPlan, type SeedSource } from '../drivers/qemu/protocol.ts';
import type { Store } from '../store/store.ts';
import type { ClusterContexts } from './cluster-contexts.ts';
import { memberAt, workspaceNaming } from '../control/workspace-names.ts';
import type { ClusterRole } from '../core/types.ts';

/** What cluster members' seeds need of the context broker. */
export interface SeedContexts {
  contexts: ClusterContexts;
  /** The service's base URL as guests reach it (vws serve --guest-url). */
  guestUrl: string;
  /** The sha256 (hex) of the context agent the service serves. */
  agentSha256: string;
}

/** Seeds read from the store: a VM whose lease it does not have (none should) gets the plain seed. */
export function leaseSeeds(store: Store, wired?: SeedContexts): SeedSource {
  return async (vm, nics) => {
    const lease = await store.getLease(vm.leaseId);
    if (!lease) return plainSeed(vm, nics);
    const req = lease.request;
    const broker = wired && req.roles ? await brokerPart(wired, vm.leaseId, vm.index, serviceUrlFor(wired, nics), providesOf(req.roles, vm.index)) : null;
    return buildSeed({
      workspaceId: vm.id,
      hostname: workspaceNaming(vm.leaseId, vm.index, req.roles).hostname,
      // A cluster member's NICs by network (public first, then private), matched by MAC; else its one public NIC.
      nics: nics?.length ? nics.map((n) => ({ name: n.network, mac: n.mac })) : [{ name: PUBLIC_NIC, mac: vm.mac }],
      ...(req.sshPublicKeys && req.sshPublicKeys.length > 0 ? { sshKeys: [...req.sshPublicKeys] } : {}),
      ...(req.userData !== undefined ? { userData: req.userData } : {}),
      ...(broker ? { broker } : {}),
    });
  };
}

/**
 * The member's broker part, with a fresh secret; null once its agent has exchanged one (it keeps
 * its session across reboots, and cloud-init, seeing the same instance-id, writes no files again).
 */
async function brokerPart(wired: SeedContexts, leaseId: string, index: number, serviceUrl: string, provides: readonly string[]): Promise<SeedBroker | null> {
  const issued = await wired.contexts.secretFor(leaseId, index);
  if (!issued.ok) {
    if (issued.code === 'wrong-state') return null;
    throw new Error(`the seed of ${leaseId}/${index} cannot carry its context secret: ${issued.message}`);
  }
  if (!issued.value) return null;
  return {
    agentUrl: `${serviceUrl}/v1/context/agent`, agentSha256: wired.agentSha256, serviceUrl,
    secret: issued.value.secret, member: issued.value.memberId, publicKey: wired.contexts.broker.publicKeyPem,
    ...(provides.length > 0 ? { provides: [...provides] } : {}),
  };
}

/** The entries the role of member `index` provides (what its agent waits for its user-data to write). */
function providesOf(roles: readonly ClusterRole[], index: number): readonly string[] {
  const member = memberAt(roles, index);
  return roles.find((r) => r.name === member?.role)?.provides ?? [];
}

/** The service as the member reaches it: its node's relay when it has a private NIC, else the guest URL. */
function serviceUrlFor(wired: SeedContexts, nics: SeedNicPlan[] | undefined): string {
  const context = nics?.find((n) => n.network === 'private')?.contextAddress;
  return context ? `http://${context}:${CONTEXT_RELAY_PORT}` : wired.guestUrl.replace(/\/+$/, '');
}
