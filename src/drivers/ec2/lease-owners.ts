// Who a lease is for, as the store has it: the account mapping reads the owner, the group the
// lease is shared with, and every group the owner belongs to.

import type { Store } from '../../store/store.ts';
import type { LeaseOwner } from './site-config.ts';

export function leaseOwners(store: Store): (leaseId: string) => Promise<LeaseOwner | null> {
  return async (leaseId) => {
    const lease = await store.getLease(leaseId);
    return lease ? { owner: lease.owner, group: lease.group, memberOf: await store.groupsOf(lease.owner) } : null;
  };
}
