// What the site's image trust policy keeps (issue 17, item 5): the signers it trusts, its one
// requirement document, and the signed statements attached to images. Plain values kept as JSON
// text in both stores; their meaning (and their checking) is src/drivers/trust-policy.ts's, above.

/** A signer the site trusts: its Ed25519 public key (SPKI PEM) and the claims it is trusted for. */
export interface SignerRow {
  name: string;
  /** keyIdOf(publicKey): unique, since a statement names its signer by it. */
  keyId: string;
  publicKey: string;
  /** null: every claim. */
  claims: string[] | null;
  addedBy: string;
  addedAt: number;
}

export interface TrustPolicyRow {
  policy: { require: string; claims: Array<{ name: string; maxAgeDays?: number }> };
  updatedBy: string;
  updatedAt: number;
}

/** A signed statement on an image; one per image and signing key (a newer one replaces it). */
export interface StatementRow {
  image: string;
  keyId: string;
  envelope: { payloadType: string; payload: string; keyId: string; signature: string; publicKey: string };
  attachedBy: string;
  attachedAt: number;
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- the database drivers' rows are untyped; these give them types
export type TrustDbRow = Record<string, any>;

export const toSigner = (r: TrustDbRow): SignerRow =>
  ({ name: r.name, keyId: r.key_id, publicKey: r.public_key, claims: r.claims === null ? null : JSON.parse(r.claims), addedBy: r.added_by, addedAt: Number(r.added_at) });

export const toPolicy = (r: TrustDbRow): TrustPolicyRow => ({ policy: JSON.parse(r.policy), updatedBy: r.updated_by, updatedAt: Number(r.updated_at) });

export const toStatement = (r: TrustDbRow): StatementRow =>
  ({ image: r.image_name, keyId: r.key_id, envelope: JSON.parse(r.envelope), attachedBy: r.attached_by, attachedAt: Number(r.attached_at) });

export const signerColumns = (s: SignerRow) =>
  ({ name: s.name, key_id: s.keyId, public_key: s.publicKey, claims: s.claims === null ? null : JSON.stringify(s.claims), added_by: s.addedBy, added_at: s.addedAt });

export const statementColumns = (s: StatementRow) =>
  ({ image_name: s.image, key_id: s.keyId, envelope: JSON.stringify(s.envelope), attached_by: s.attachedBy, attached_at: s.attachedAt });

/** Migration 9: the tables, apart from images' own columns (an image's statements go with it). */
export const TRUST_TABLES = (text: string, bigint: string) => `
  CREATE TABLE trust_signers (
    name       ${text} PRIMARY KEY,
    key_id     TEXT NOT NULL UNIQUE,
    public_key TEXT NOT NULL,
    claims     TEXT,
    added_by   TEXT NOT NULL,
    added_at   ${bigint} NOT NULL
  );
  CREATE TABLE trust_policy (
    id         TEXT PRIMARY KEY CHECK (id = 'site'),
    policy     TEXT NOT NULL,
    updated_by TEXT NOT NULL,
    updated_at ${bigint} NOT NULL
  );
  CREATE TABLE image_statements (
    image_name  ${text} NOT NULL REFERENCES images (name) ON DELETE CASCADE,
    key_id      ${text} NOT NULL,
    envelope    TEXT NOT NULL,
    attached_by TEXT NOT NULL,
    attached_at ${bigint} NOT NULL,
    PRIMARY KEY (image_name, key_id)
  );
`;
