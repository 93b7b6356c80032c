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
