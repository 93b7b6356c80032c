// Bearer tokens: handed out once, stored only as sha256 hashes. A caller sees its own leases,
// those of groups that share leases among their members, and, if admin, all.

import { createHash, randomBytes, randomUUID } from 'node:crypto';
import type { LeaseRow, Store, UserRow } from '../store/store.ts';

export interface Caller {
  user: UserRow;
  /** When the token the caller came with expires (null: never): a token it makes may not outlive it. */
  tokenExpiresAt: number | null;
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
  // A disabled user's tokens all stop at once.
  if (!user || user.disabled) return null;
  const groups = await store.groupsOf(user.id);
  const sharingGroups: string[] = [];
  for (const g of groups) if ((await store.getGroup(g))?.shareLeases) sharingGroups.push(g);
  return { user, tokenExpiresAt: token.expiresAt, groups, sharingGroups };
}

export function canSee(caller: Caller, lease: Pick<LeaseRow, 'owner' | 'group'>): boolean {
  return caller.user.isAdmin || lease.owner === caller.user.id || (lease.group !== null && caller.sharingGroups.includes(lease.group));
}

/** Issues a token for a user; the token itself is returned once and never stored. */
export async function issueToken(store: Store, userId: string, label: string, now: number, expiresIn?: number, token = newToken()): Promise<{ id: string; token: string; expiresAt: number | null }> {
  const id = randomUUID();
  const expiresAt = expiresIn ? now + expiresIn : null;
  await store.putToken({ id, userId, hash: hashToken(token), label, createdAt: now, expiresAt });
  return { id, token, expiresAt };
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
