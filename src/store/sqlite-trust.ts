// The SQLite store's methods for the image trust policy's records (trust-records.ts). SqliteStore
// inherits them (after the EC2 front-end's) and supplies the connection's primitives.

import { SqliteEc2Records } from './sqlite-ec2.ts';
import { type SignerRow, type StatementRow, type TrustPolicyRow, signerColumns, statementColumns, toPolicy, toSigner, toStatement } from './trust-records.ts';

export abstract class SqliteTrustRecords extends SqliteEc2Records {
  async addSigner(s: SignerRow): Promise<boolean> {
    const c = signerColumns(s);
    const r = await this.run('INSERT INTO trust_signers (name, key_id, public_key, claims, added_by, added_at) VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING', c.name, c.key_id, c.public_key, c.claims, c.added_by, c.added_at);
    return r.changes > 0;
  }
  async listSigners(): Promise<SignerRow[]> {
    return (await this.all('SELECT * FROM trust_signers ORDER BY name')).map(toSigner);
  }
  async deleteSigner(name: string): Promise<boolean> {
    return (await this.run('DELETE FROM trust_signers WHERE name = ?', name)).changes > 0;
  }
  async trustPolicy(): Promise<TrustPolicyRow | null> {
    const row = await this.one("SELECT * FROM trust_policy WHERE id = 'site'");
    return row === undefined ? null : toPolicy(row);
  }
  async putTrustPolicy(p: TrustPolicyRow): Promise<void> {
    await this.upsert('trust_policy', ['id'], { id: 'site', policy: JSON.stringify(p.policy), updated_by: p.updatedBy, updated_at: p.updatedAt });
  }
  async putImageStatement(s: StatementRow): Promise<void> {
    await this.upsert('image_statements', ['image_name', 'key_id'], statementColumns(s));
  }
  async imageStatements(image: string): Promise<StatementRow[]> {
    return (await this.all('SELECT * FROM image_statements WHERE image_name = ? ORDER BY key_id', image)).map(toStatement);
  }
}
