// The PostgreSQL store's methods for the image trust policy's records (trust-records.ts).
// PostgresStore inherits them (after the EC2 front-end's) and supplies its query primitives.

import { PostgresEc2Records } from './postgres-ec2.ts';
import { type SignerRow, type StatementRow, type TrustPolicyRow, signerColumns, statementColumns, toPolicy, toSigner, toStatement } from './trust-records.ts';

export abstract class PostgresTrustRecords extends PostgresEc2Records {
  async addSigner(s: SignerRow): Promise<boolean> {
    const c = signerColumns(s);
    const r = await this.query('INSERT INTO trust_signers (name, key_id, public_key, claims, added_by, added_at) VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT DO NOTHING RETURNING name', [c.name, c.key_id, c.public_key, c.claims, c.added_by, c.added_at]);
    return r.length > 0;
  }
  async listSigners(): Promise<SignerRow[]> {
    return (await this.query('SELECT * FROM trust_signers ORDER BY name')).map(toSigner);
  }
  async deleteSigner(name: string): Promise<boolean> {
    return (await this.query('DELETE FROM trust_signers WHERE name = $1 RETURNING name', [name])).length > 0;
  }
  async trustPolicy(): Promise<TrustPolicyRow | null> {
    const rows = await this.query("SELECT * FROM trust_policy WHERE id = 'site'");
    return rows.length === 0 ? null : toPolicy(rows[0]);
  }
  async putTrustPolicy(p: TrustPolicyRow): Promise<void> {
    await this.upsert('trust_policy', ['id'], { id: 'site', policy: JSON.stringify(p.policy), updated_by: p.updatedBy, updated_at: p.updatedAt });
  }
  async putImageStatement(s: StatementRow): Promise<void> {
    await this.upsert('image_statements', ['image_name', 'key_id'], statementColumns(s));
  }
  async imageStatements(image: string): Promise<StatementRow[]> {
    return (await this.query('SELECT * FROM image_statements WHERE image_name = $1 ORDER BY key_id', [image])).map(toStatement);
  }
}
