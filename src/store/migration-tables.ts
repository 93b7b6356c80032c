// The tables some migrations create, in both dialects (./migrations.ts lists the migrations).
// Released migrations are never edited: a change to the schema is a new migration.

/** Migration 5: the context broker's clusters, members and signing key (src/broker). */
export const CONTEXT_TABLES = (text: string, bigint: string, json: string) => `
  CREATE TABLE contexts (
    lease_id   ${text} PRIMARY KEY,
    spec       ${json} NOT NULL,
    created_at ${bigint} NOT NULL
  );
  CREATE TABLE context_members (
    lease_id     ${text} NOT NULL REFERENCES contexts (lease_id) ON DELETE CASCADE,
    member_id    ${text} NOT NULL,
    secret_hash  TEXT NOT NULL,
    session_hash TEXT UNIQUE,
    progress     ${json} NOT NULL,
    updated_at   ${bigint} NOT NULL,
    PRIMARY KEY (lease_id, member_id)
  );
  CREATE TABLE broker_keys (
    id          TEXT PRIMARY KEY,
    public_key  TEXT NOT NULL,
    private_key TEXT NOT NULL,
    created_at  ${bigint} NOT NULL
  );
`;

/** Migration 7: the EC2 front-end's access keys, key pairs, tags and client tokens (src/ec2). */
export const EC2_TABLES = (text: string, bigint: string) => `
  CREATE TABLE ec2_credentials (
    access_key_id ${text} PRIMARY KEY,
    user_id       ${text} NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    sealed_secret TEXT NOT NULL,
    created_at    ${bigint} NOT NULL
  );
  CREATE INDEX ec2_credentials_by_user ON ec2_credentials (user_id);
  CREATE TABLE ec2_key_pairs (
    owner        ${text} NOT NULL,
    name         ${text} NOT NULL,
    key_pair_id  TEXT NOT NULL,
    key_type     TEXT NOT NULL CHECK (key_type IN ('rsa', 'ed25519')),
    public_key   TEXT NOT NULL,
    fingerprint  TEXT NOT NULL,
    created_at   ${bigint} NOT NULL,
    PRIMARY KEY (owner, name)
  );
  CREATE TABLE ec2_tags (
    owner       ${text} NOT NULL,
    resource_id ${text} NOT NULL,
    tag_key     ${text} NOT NULL,
    tag_value   TEXT NOT NULL,
    PRIMARY KEY (owner, resource_id, tag_key)
  );
  CREATE TABLE ec2_client_tokens (
    owner       ${text} NOT NULL,
    token       ${text} NOT NULL,
    lease_id    TEXT NOT NULL,
    params_hash TEXT NOT NULL,
    PRIMARY KEY (owner, token)
  );
`;

/** Migration 10: one leader among the servers on a store. */
export const LEADERSHIP_TABLES = (instant: string) => `
  CREATE TABLE leadership (
    id      INTEGER PRIMARY KEY CHECK (id = 1),
    epoch   BIGINT NOT NULL,
    holder  TEXT NOT NULL,
    address TEXT NOT NULL,
    since   BIGINT NOT NULL
  );
  CREATE TABLE leader_heartbeat (
    id         INTEGER PRIMARY KEY CHECK (id = 1),
    epoch      BIGINT NOT NULL,
    expires_at ${instant} NOT NULL
  );
`;
