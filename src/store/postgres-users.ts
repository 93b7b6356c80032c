// The PostgreSQL store's methods for users, groups and tokens. PostgresStore inherits them (after
// the image trust records' and the EC2 front-end's) and supplies its query primitives.

import { mapped, tokenFrom } from './columns.ts';
import { PostgresTrustRecords } from './postgres-trust.ts';
import type { Row } from './postgres-write-buffer.ts';
import type { GroupRow, TokenRow, UserRow } from './store.ts';

export abstract class PostgresUserRecords extends PostgresTrustRecords {
  async putUser(u: UserRow): Promise<void> {
    await this.upsert('users', ['id'], { id: u.id, name: u.name, is_admin: u.isAdmin, created_at: u.createdAt, disabled: u.disabled ?? false });
  }
  async getUser(id: string): Promise<UserRow | null> {
    return mapped((await this.query('SELECT * FROM users WHERE id = $1', [id]))[0], toUser);
  }
  async listUsers(): Promise<UserRow[]> {
    return (await this.query('SELECT * FROM users ORDER BY id')).map(toUser);
  }

  async putGroup(g: GroupRow): Promise<void> {
    await this.upsert('user_groups', ['name'], { name: g.name, share_leases: g.shareLeases, created_at: g.createdAt });
  }
  async getGroup(name: string): Promise<GroupRow | null> {
    return mapped((await this.query('SELECT * FROM user_groups WHERE name = $1', [name]))[0], toGroup);
  }
  async listGroups(): Promise<GroupRow[]> {
    return (await this.query('SELECT * FROM user_groups ORDER BY name')).map(toGroup);
  }
  async addMember(group: string, userId: string): Promise<void> {
    await this.query('INSERT INTO group_members (group_name, user_id) VALUES ($1, $2) ON CONFLICT DO NOTHING', [group, userId]);
  }
  async removeMember(group: string, userId: string): Promise<void> {
    await this.query('DELETE FROM group_members WHERE group_name = $1 AND user_id = $2', [group, userId]);
  }
  async groupsOf(userId: string): Promise<string[]> {
    const rows = await this.query('SELECT group_name FROM group_members WHERE user_id = $1 ORDER BY group_name', [userId]);
    return rows.map((r) => r.group_name);
  }
  async membersOf(group: string): Promise<string[]> {
    const rows = await this.query('SELECT user_id FROM group_members WHERE group_name = $1 ORDER BY user_id', [group]);
    return rows.map((r) => r.user_id);
  }

  async putToken(t: TokenRow): Promise<void> {
    await this.upsert('tokens', ['id'], {
      id: t.id, user_id: t.userId, hash: t.hash, label: t.label, created_at: t.createdAt, expires_at: t.expiresAt,
    });
  }
  async tokenByHash(hash: string): Promise<TokenRow | null> {
    return mapped((await this.query('SELECT * FROM tokens WHERE hash = $1', [hash]))[0], tokenFrom);
  }
  async tokensOf(userId: string): Promise<TokenRow[]> {
    return (await this.query('SELECT * FROM tokens WHERE user_id = $1 ORDER BY created_at, id', [userId])).map(tokenFrom);
  }
  async deleteToken(id: string): Promise<boolean> {
    return (await this.query('DELETE FROM tokens WHERE id = $1 RETURNING id', [id])).length > 0;
  }
}


function toUser(r: Row): UserRow {
  return { id: r.id, name: r.name, isAdmin: r.is_admin, createdAt: r.created_at, ...(r.disabled ? { disabled: true } : {}) };
}

function toGroup(r: Row): GroupRow {
  return { name: r.name, shareLeases: r.share_leases, createdAt: r.created_at };
}
