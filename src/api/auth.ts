// Bearer tokens: handed out once, stored only as sha256 hashes. A caller sees its own leases,
// those of groups that share leases among their members, and, if admin, all.

import { createHash, randomBytes, randomUUID } from 'node:crypto';
import type { LeaseRow, Store, UserRow } from '../store/store.ts';

export interface Caller {
  user: UserRow;
  groups: string[];
  /** Groups of the caller whose members share leases. */
  sharingGroups: string[];
}

export const hashToken = (token: string): string => createHash('sha256').update(token).digest('hex');

export const newToken = (): string => `vws_${randomBytes(32).toString('base64url')}`;

export async function authenticate(store: Store, authorization: string | undefined, now: number): Promise<Caller | null> {
  const m = /^Bearer\s+(\S+)$/i.exec(authorization ?? '');
  if (!m) return null;
  const token = await store.tokenByHash(hashToken(m[1]));
  if (!token || (token.expiresAt !== null && token.expiresAt <= now)) return null;
  const user = await store.getUser(token.userId);
  if (!user) return null;
  const groups = await store.groupsOf(user.id);
  const sharingGroups: string[] = [];
  for (const g of groups) if ((await store.getGroup(g))?.shareLeases) sharingGroups.push(g);
  return { user, groups, sharingGroups };
}

export function canSee(caller: Caller, lease: Pick<LeaseRow, 'owner' | 'group'>): boolean {
  return caller.user.isAdmin || lease.owner === caller.user.id || (lease.group !== null && caller.sharingGroups.includes(lease.group));
}

/** Issues a token for a user; the token itself is returned once and never stored. */
export async function issueToken(store: Store, userId: string, label: string, now: number, expiresIn?: number, token = newToken()): Promise<{ id: string; token: string }> {
  const id = randomUUID();
  await store.putToken({ id, userId, hash: hashToken(token), label, createdAt: now, expiresAt: expiresIn ? now + expiresIn : null });
  return { id, token };
}

/**
 * On an empty store, creates the admin user and its first token: the one in `bootstrapToken`
 * (VWS_BOOTSTRAP_TOKEN) if given, else a new one, which the caller prints once.
 */
export async function bootstrapAdmin(store: Store, now: number, bootstrapToken?: string): Promise<string | null> {
  if ((await store.listUsers()).length > 0) return null;
  await store.putUser({ id: 'admin', name: 'admin', isAdmin: true, createdAt: now });
  const { token } = await issueToken(store, 'admin', 'bootstrap', now, undefined, bootstrapToken || undefined);
  return token;
}
