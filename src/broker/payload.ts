// The context a member receives (format vws.context/v1): built from its own cluster's state only,
// as the exact bytes the broker signs. The part every member shares (the member list) is built
// once per state of the cluster and reused as bytes, since at 1,000 members it is most of each answer.

import { splitRequirement } from '../core/roles.ts';
import { progressOf, roleNamed } from './rules.ts';
import type { BrokerMember, ClusterContext } from './types.ts';

export const CONTEXT_FORMAT = 'vws.context/v1';

export interface ContextMemberEntry {
  id: string;
  role: string;
  index: number;
  hostname: string;
  ip: string;
  hostKey: string;
}

/** Every member that reported and has not failed, in the spec's order (roles, then index), as JSON bytes. */
export function membersJson(ctx: ClusterContext): Buffer {
  const out: ContextMemberEntry[] = [];
  for (const m of ctx.spec.members) {
    const p = progressOf(ctx, m.id);
    if (p.failedAt !== null || p.provided === null) continue;
    out.push({ id: m.id, role: m.role, index: m.index, hostname: m.hostname, ip: p.provided.ip, hostKey: p.provided.hostKey });
  }
  return Buffer.from(JSON.stringify(out));
}

/** `ROLE.ENTRY` → each live provider's value, by index. */
function entriesOf(ctx: ClusterContext, requires: readonly string[]): Record<string, Array<{ index: number; value: string }>> {
  const out: Record<string, Array<{ index: number; value: string }>> = {};
  for (const q of requires) {
    const { role, entry } = splitRequirement(q)!;
    const values: Array<{ index: number; value: string }> = [];
    for (const m of ctx.spec.members) {
      if (m.role !== role) continue;
      const p = progressOf(ctx, m.id);
      if (p.failedAt !== null || p.provided === null) continue;
      const v = entry === 'ip' ? p.provided.ip : entry === 'hostname' ? m.hostname : entry === 'host-key' ? p.provided.hostKey : p.provided.entries[entry];
      values.push({ index: m.index, value: v });
    }
    out[q] = values;
  }
  return out;
}

/** What a role's members receive alike after the member list: the entries they require, the owner's keys, the role's files. */
export function roleTail(ctx: ClusterContext, roleName: string): Buffer {
  const role = roleNamed(ctx, roleName);
  return Buffer.from(`,${JSON.stringify({ entries: entriesOf(ctx, role.requires), ownerKeys: ctx.spec.ownerKeys, files: role.files }).slice(1)}`);
}

/**
 * The payload's bytes for one member. `members` is membersJson(ctx) and `tail` roleTail(ctx, its
 * role), passed in so that a caller may keep them across members; `issuedAt` lets the agent see
 * how fresh it is.
 */
export function contextPayload(ctx: ClusterContext, member: BrokerMember, members: Buffer, tail: Buffer, issuedAt: number): Buffer {
  const head = JSON.stringify({
    format: CONTEXT_FORMAT, lease: ctx.spec.leaseId, member: member.id, role: member.role, index: member.index, hostname: member.hostname, issuedAt,
  });
  // Bytes joined, not text: at 1,000 members, encoding the shared part again for each member cost more than signing it.
  return Buffer.concat([Buffer.from(`${head.slice(0, -1)},"members":`), members, tail]);
}
