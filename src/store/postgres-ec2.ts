// The PostgreSQL store's methods for the EC2 front-end's records (ec2-records.ts): access keys
// (the secret sealed), key pairs, tags and ClientTokens. PostgresStore inherits them and supplies
// its query primitives, so the store file holds only what is the store's own.

import { mapped } from './columns.ts';
import { type ClientTokenRow, type Ec2CredentialRow, type Ec2Row, type KeyPairRow, type TagRow, toClientToken, toCredential, toKeyPair, toTag } from './ec2-records.ts';

type SqlValue = string | number | boolean | null | string[];

export abstract class PostgresEc2Records {
  protected abstract query(sql: string, params?: SqlValue[]): Promise<Ec2Row[]>;
  protected abstract upsert(table: string, key: string[], values: Record<string, SqlValue>): Promise<void>;

  async putEc2Credential(c: Ec2CredentialRow): Promise<void> {
    await this.query('INSERT INTO ec2_credentials (access_key_id, user_id, sealed_secret, created_at) VALUES ($1, $2, $3, $4)', [c.accessKeyId, c.userId, c.sealedSecret, c.createdAt]);
  }
  async ec2Credential(accessKeyId: string): Promise<Ec2CredentialRow | null> {
    return mapped((await this.query('SELECT * FROM ec2_credentials WHERE access_key_id = $1', [accessKeyId]))[0], toCredential);
  }
  async ec2CredentialsOf(userId: string): Promise<Ec2CredentialRow[]> {
    return (await this.query('SELECT * FROM ec2_credentials WHERE user_id = $1 ORDER BY created_at, access_key_id', [userId])).map(toCredential);
  }
  async deleteEc2Credential(accessKeyId: string): Promise<boolean> {
    return (await this.query('DELETE FROM ec2_credentials WHERE access_key_id = $1 RETURNING access_key_id', [accessKeyId])).length > 0;
  }
  async addKeyPair(k: KeyPairRow): Promise<boolean> {
    const rows = await this.query(
      'INSERT INTO ec2_key_pairs (owner, name, key_pair_id, key_type, public_key, fingerprint, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT DO NOTHING RETURNING name',
      [k.owner, k.name, k.keyPairId, k.keyType, k.publicKey, k.fingerprint, k.createdAt],
    );
    return rows.length > 0;
  }
  async keyPairsOf(owner: string): Promise<KeyPairRow[]> {
    return (await this.query('SELECT * FROM ec2_key_pairs WHERE owner = $1 ORDER BY name', [owner])).map(toKeyPair);
  }
  async deleteKeyPair(owner: string, name: string): Promise<boolean> {
    return (await this.query('DELETE FROM ec2_key_pairs WHERE owner = $1 AND name = $2 RETURNING name', [owner, name])).length > 0;
  }
  async putTag(t: TagRow): Promise<void> {
    await this.upsert('ec2_tags', ['owner', 'resource_id', 'tag_key'], { owner: t.owner, resource_id: t.resourceId, tag_key: t.key, tag_value: t.value });
  }
  async deleteTag(owner: string, resourceId: string, key: string): Promise<boolean> {
    return (await this.query('DELETE FROM ec2_tags WHERE owner = $1 AND resource_id = $2 AND tag_key = $3 RETURNING tag_key', [owner, resourceId, key])).length > 0;
  }
  async tagsOf(owner: string): Promise<TagRow[]> {
    return (await this.query('SELECT * FROM ec2_tags WHERE owner = $1 ORDER BY resource_id, tag_key', [owner])).map(toTag);
  }
  async clientToken(owner: string, token: string): Promise<ClientTokenRow | null> {
    return mapped((await this.query('SELECT * FROM ec2_client_tokens WHERE owner = $1 AND token = $2', [owner, token]))[0], toClientToken);
  }
  async keepClientToken(c: ClientTokenRow): Promise<ClientTokenRow> {
    await this.query('INSERT INTO ec2_client_tokens (owner, token, lease_id, params_hash) VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING', [c.owner, c.token, c.leaseId, c.paramsHash]);
    return (await this.clientToken(c.owner, c.token))!;
  }
}

