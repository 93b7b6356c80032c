// What the EC2-compatible front-end (src/ec2) keeps: users' access keys (the secret only
// encrypted), their key pairs, the tags they put on instances, and the ClientTokens that make a
// RunInstances idempotent.

export interface Ec2CredentialRow {
  /** AKIA + 16 upper-case letters and digits, as AWS's. */
  accessKeyId: string;
  userId: string;
  /** The secret access key, sealed by the server's key (SecretBox); never stored in clear. */
  sealedSecret: string;
  createdAt: number;
}

export interface KeyPairRow {
  owner: string;
  name: string;
  /** key- + 17 hex, EC2's form. */
  keyPairId: string;
  keyType: 'rsa' | 'ed25519';
  /** The OpenSSH public key line that goes into a lease's sshPublicKeys. */
  publicKey: string;
  fingerprint: string;
  createdAt: number;
}

export interface TagRow {
  owner: string;
  resourceId: string;
  key: string;
  value: string;
}

export interface ClientTokenRow {
  owner: string;
  token: string;
  leaseId: string;
  /** sha256 of the request's parameters: the same token with other parameters is refused. */
  paramsHash: string;
}

/** A row as either store reads it (snake_case columns). */
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- the database drivers' rows are untyped; these give them types
export type Ec2Row = Record<string, any>;

export function toCredential(r: Ec2Row): Ec2CredentialRow {
  return { accessKeyId: r.access_key_id, userId: r.user_id, sealedSecret: r.sealed_secret, createdAt: Number(r.created_at) };
}

export function toKeyPair(r: Ec2Row): KeyPairRow {
  return { owner: r.owner, name: r.name, keyPairId: r.key_pair_id, keyType: r.key_type, publicKey: r.public_key, fingerprint: r.fingerprint, createdAt: Number(r.created_at) };
}

export function toTag(r: Ec2Row): TagRow {
  return { owner: r.owner, resourceId: r.resource_id, key: r.tag_key, value: r.tag_value };
}

export function toClientToken(r: Ec2Row): ClientTokenRow {
  return { owner: r.owner, token: r.token, leaseId: r.lease_id, paramsHash: r.params_hash };
}
