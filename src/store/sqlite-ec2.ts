// The SQLite store's methods for the EC2 front-end's records (ec2-records.ts): access keys (the
// secret sealed), key pairs, tags and ClientTokens. SqliteStore inherits them and supplies the
// connection's primitives, so the store file holds only what is the store's own.

import { mapped } from './columns.ts';
import { type ClientTokenRow, type Ec2CredentialRow, type Ec2Row, type KeyPairRow, type TagRow, toClientToken, toCredential, toKeyPair, toTag } from './ec2-records.ts';

type SqlValue = string | number | null;

export abstract class SqliteEc2Records {
  protected abstract run(sql: string, ...params: SqlValue[]): Promise<{ changes: number }>;
  protected abstract one(sql: string, ...params: SqlValue[]): Promise<Ec2Row | undefined>;
  protected abstract all(sql: string, ...params: SqlValue[]): Promise<Ec2Row[]>;
  protected abstract upsert(table: string, key: string[], values: Record<string, SqlValue>): Promise<void>;

  async putEc2Credential(c: Ec2CredentialRow): Promise<void> {
    await this.run('INSERT INTO ec2_credentials (access_key_id, user_id, sealed_secret, created_at) VALUES (?, ?, ?, ?)', c.accessKeyId, c.userId, c.sealedSecret, c.createdAt);
  }
  async ec2Credential(accessKeyId: string): Promise<Ec2CredentialRow | null> {
    return mapped(await this.one('SELECT * FROM ec2_credentials WHERE access_key_id = ?', accessKeyId), toCredential);
  }
  async ec2CredentialsOf(userId: string): Promise<Ec2CredentialRow[]> {
    return (await this.all('SELECT * FROM ec2_credentials WHERE user_id = ? ORDER BY created_at, access_key_id', userId)).map(toCredential);
  }
  async deleteEc2Credential(accessKeyId: string): Promise<boolean> {
    return (await this.run('DELETE FROM ec2_credentials WHERE access_key_id = ?', accessKeyId)).changes > 0;
  }
  async addKeyPair(k: KeyPairRow): Promise<boolean> {
    const r = await this.run(
      'INSERT INTO ec2_key_pairs (owner, name, key_pair_id, key_type, public_key, fingerprint, created_at) VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING',
      k.owner, k.name, k.keyPairId, k.keyType, k.publicKey, k.fingerprint, k.createdAt,
    );
    return r.changes > 0;
  }
  async keyPairsOf(owner: string): Promise<KeyPairRow[]> {
    return (await this.all('SELECT * FROM ec2_key_pairs WHERE owner = ? ORDER BY name', owner)).map(toKeyPair);
  }
  async deleteKeyPair(owner: string, name: string): Promise<boolean> {
    return (await this.run('DELETE FROM ec2_key_pairs WHERE owner = ? AND name = ?', owner, name)).changes > 0;
  }
  async putTag(t: TagRow): Promise<void> {
    await this.upsert('ec2_tags', ['owner', 'resource_id', 'tag_key'], { owner: t.owner, resource_id: t.resourceId, tag_key: t.key, tag_value: t.value });
  }
  async deleteTag(owner: string, resourceId: string, key: string): Promise<boolean> {
    return (await this.run('DELETE FROM ec2_tags WHERE owner = ? AND resource_id = ? AND tag_key = ?', owner, resourceId, key)).changes > 0;
  }
  async tagsOf(owner: string): Promise<TagRow[]> {
    return (await this.all('SELECT * FROM ec2_tags WHERE owner = ? ORDER BY resource_id, tag_key', owner)).map(toTag);
  }
  async clientToken(owner: string, token: string): Promise<ClientTokenRow | null> {
    return mapped(await this.one('SELECT * FROM ec2_client_tokens WHERE owner = ? AND token = ?', owner, token), toClientToken);
  }
  async keepClientToken(c: ClientTokenRow): Promise<ClientTokenRow> {
    await this.run('INSERT INTO ec2_client_tokens (owner, token, lease_id, params_hash) VALUES (?, ?, ?, ?) ON CONFLICT DO NOTHING', c.owner, c.token, c.leaseId, c.paramsHash);
    return (await this.clientToken(c.owner, c.token))!;
  }
}

