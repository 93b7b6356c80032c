// Which VM of a lease a workspace is, and the host name its guest gets. A cluster's VMs are its
// members role by role, in the request's role order, `count` per role (the core's membersOf, in
// core/roles.ts), so that workspace k is member k.

import type { ClusterRole } from '../core/types.ts';

export interface Member {
  role: string;
  /** Which of its role's VMs, from 0. */
  member: number;
}

/** Member `index` of a cluster, by its role's name (the core's membersOf(roles)[index]) without listing them all: a role may have thousands. */
export function memberAt(roles: readonly ClusterRole[], index: number): Member | null {
  let first = 0;
  for (const r of roles) {
    if (index < first + r.count) return index >= first ? { role: r.name, member: index - first } : null;
    first += r.count;
  }
  return null;
}

/** Longest DNS label (RFC 1035). */
export const LONGEST_LABEL = 63;
/**
 * How much of the lease's id a host name keeps: the same for every VM of a lease, so that two
 * suffixes never meet a differently cut prefix ("…-a" + "-b-1" is "…" + "-a-b-1"), and short
 * enough for the longest suffix ('-', a role of 31, '-', a member of 5 digits).
 */
const LEASE_PART = LONGEST_LABEL - 38;

/**
 * The host name of workspace `index` of a lease: `LEASE-ROLE-K` for member K of a cluster's
 * role, `LEASE-K` otherwise. A DNS label: lower case letters, digits and '-', neither first nor
 * last, at most 63; a long or odd lease id is cut (to the same length for all its VMs) and
 * cleaned, never the role or number, so the members of one lease keep distinct names.
 */
export function hostnameOf(leaseId: string, index: number, member: Member | null): string {
  const suffix = member ? `-${member.role}-${member.member}` : `-${index}`;
  const lease = leaseId.toLowerCase().replace(/[^a-z0-9-]+/g, '-').replace(/^-+/, '').slice(0, LEASE_PART).replace(/-+$/, '');
  return `${lease === '' ? 'vm' : lease}${suffix}`;
}

/** Role, member and host name for workspace `index` of a lease with these roles (none: a lease of one shape). */
export function workspaceNaming(leaseId: string, index: number, roles: readonly ClusterRole[] | undefined): { role: string | null; member: number | null; hostname: string } {
  const m = roles ? memberAt(roles, index) : null;
  return { role: m?.role ?? null, member: m?.member ?? null, hostname: hostnameOf(leaseId, index, m) };
}
