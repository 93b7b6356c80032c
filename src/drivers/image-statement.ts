// Signed statements about images (issue 17, item 5): an appliance provider says, with its Ed25519
// key, "the image of this sha256 is NAME, described so, patched as of DATE". The shape follows
// in-toto/Sigstore statements (a subject by digest, then what is claimed about it) and the
// envelope DSSE's (the signature is over the payload type and the payload's exact bytes, so a
// payload read as another type, or changed by one byte, does not verify). The server, the CLI and
// the node agent share this module: it sits at the top of src/drivers, below all three, and does
// no I/O besides node:crypto.

import { createHash, createPrivateKey, createPublicKey, type KeyObject, sign, verify } from 'node:crypto';

export const STATEMENT_TYPE = 'vws.image-statement/v1';
export const PAYLOAD_TYPE = 'application/vnd.vws.image-statement+json';

/** A claim's value, and when it stops being true (RFC 3339 UTC), if it does. */
export interface Claim {
  value: string;
  expiresAt?: string;
}

export interface ImageStatement {
  type: typeof STATEMENT_TYPE;
  subject: { name: string; sha256: string; sizeBytes: number };
  description?: string;
  claims: Record<string, Claim>;
  issuedAt: string;
  expiresAt?: string;
  /** The signer's key id (keyIdOf its public key). */
  signer: string;
}

/** What travels and is stored: the payload's canonical bytes (base64), the signature, and the key that made it. */
export interface StatementEnvelope {
  payloadType: typeof PAYLOAD_TYPE;
  payload: string;
  keyId: string;
  signature: string;
  /** SPKI PEM: lets whoever receives it check the signature; whether the key is trusted is the site's trust policy. */
  publicKey: string;
}

const SHA256 = /^[0-9a-f]{64}$/;
const RFC3339 = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$/;
const CLAIM_NAME = /^[a-z][a-z0-9._-]{0,63}$/;

/** JSON with keys sorted at every level and no whitespace: the one byte string a statement is signed as. */
export function canonicalJson(value: unknown): string {
  if (value === null || typeof value === 'boolean' || typeof value === 'string') return JSON.stringify(value);
  if (typeof value === 'number') {
    // Only safe integers: a float's text differs between serializers, which a signature cannot survive.
    if (!Number.isSafeInteger(value)) throw new RangeError(`canonical JSON holds only integers, not ${value}`);
    return String(value);
  }
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>).filter(([, v]) => v !== undefined).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(',')}}`;
  }
  throw new RangeError(`canonical JSON cannot hold a ${typeof value}`);
}

/** DSSE's pre-authentication encoding: binds the payload type to the bytes signed. */
function pae(payloadType: string, payload: Buffer): Buffer {
  const type = Buffer.from(payloadType, 'utf8');
  return Buffer.concat([Buffer.from(`DSSEv1 ${type.length} `), type, Buffer.from(` ${payload.length} `), payload]);
}

export function publicKeyOf(pem: string): KeyObject {
  let key: KeyObject;
  try {
    key = createPublicKey(pem);
  } catch {
    throw new RangeError('the public key is not a PEM public key (SPKI, "-----BEGIN PUBLIC KEY-----"): give the .pub.pem that vws image keygen wrote');
  }
  if (key.asymmetricKeyType !== 'ed25519') throw new RangeError(`the public key is ${key.asymmetricKeyType ?? 'of no known type'}, not Ed25519: make one with vws image keygen`);
  return key;
}

/** A key's id: the first 16 hex digits of the sha256 of its 32 raw bytes. */
export function keyIdOf(key: KeyObject | string): string {
  const k = typeof key === 'string' ? publicKeyOf(key) : key;
  const raw = Buffer.from(k.export({ format: 'jwk' }).x as string, 'base64url');
  return createHash('sha256').update(raw).digest('hex').slice(0, 16);
}

/** The statement's problems as a person would fix them, or null when it is well formed. */
export function statementProblem(s: unknown): string | null {
  if (typeof s !== 'object' || s === null || Array.isArray(s)) return 'the payload is not a JSON object';
  const st = s as Partial<ImageStatement> & Record<string, unknown>;
  const known = ['type', 'subject', 'description', 'claims', 'issuedAt', 'expiresAt', 'signer'];
  const extra = Object.keys(st).filter((k) => !known.includes(k));
  if (extra.length > 0) return `the statement has unknown fields ${extra.join(', ')}`;
  if (st.type !== STATEMENT_TYPE) return `the statement's type is ${JSON.stringify(st.type)}, not ${STATEMENT_TYPE}`;
  const sub = st.subject as Record<string, unknown> | undefined;
  if (typeof sub !== 'object' || sub === null || typeof sub.name !== 'string' || sub.name.length === 0 || typeof sub.sha256 !== 'string' || !SHA256.test(sub.sha256) || !Number.isSafeInteger(sub.sizeBytes) || (sub.sizeBytes as number) < 0 || Object.keys(sub).length !== 3) {
    return 'the subject must be { name, sha256 (64 lower-case hex digits), sizeBytes (an integer) }';
  }
  if (st.description !== undefined && (typeof st.description !== 'string' || st.description.length > 4096)) return 'the description must be a string of at most 4096 characters';
  if (typeof st.claims !== 'object' || st.claims === null || Array.isArray(st.claims)) return 'claims must be an object of name to { value, expiresAt? }';
  for (const [name, c] of Object.entries(st.claims)) {
    if (!CLAIM_NAME.test(name)) return `claim name '${name}' must be lower-case letters, digits, '.', '_' or '-', starting with a letter`;
    const cl = c as unknown as Record<string, unknown>;
    if (typeof cl !== 'object' || cl === null || typeof cl.value !== 'string' || cl.value.length > 256 || Object.keys(cl).some((k) => k !== 'value' && k !== 'expiresAt')) return `claim '${name}' must be { value (a string), expiresAt? }`;
    if (cl.expiresAt !== undefined && !isTime(cl.expiresAt)) return `claim '${name}' expiresAt must be an RFC 3339 UTC time such as 2027-01-01T00:00:00Z`;
  }
  if (!isTime(st.issuedAt)) return 'issuedAt must be an RFC 3339 UTC time such as 2026-12-01T00:00:00Z';
  if (st.expiresAt !== undefined && !isTime(st.expiresAt)) return 'expiresAt must be an RFC 3339 UTC time such as 2027-01-01T00:00:00Z';
  if (typeof st.signer !== 'string' || !/^[0-9a-f]{16}$/.test(st.signer)) return 'signer must be the key id of the signing key (16 hex digits)';
  return null;
}

function isTime(v: unknown): v is string {
  return typeof v === 'string' && RFC3339.test(v) && !Number.isNaN(Date.parse(v));
}

/** Epoch seconds of an RFC 3339 time. */
export const secondsOf = (time: string): number => Math.floor(Date.parse(time) / 1000);

/** An RFC 3339 UTC time (whole seconds) from epoch seconds. */
export const timeOf = (seconds: number): string => new Date(seconds * 1000).toISOString().replace(/\.\d{3}Z$/, 'Z');

/** Signs a statement with a private key (PKCS#8 PEM); the statement's signer is set to the key's id. */
export function signStatement(statement: Omit<ImageStatement, 'signer' | 'type'>, privateKeyPem: string): StatementEnvelope {
  let priv: KeyObject;
  try {
    priv = createPrivateKey(privateKeyPem);
  } catch {
    throw new RangeError('the signing key is not a PEM private key (PKCS#8, "-----BEGIN PRIVATE KEY-----"): give the signing.key.pem that vws image keygen wrote');
  }
  const pub = createPublicKey(priv);
  if (pub.asymmetricKeyType !== 'ed25519') throw new RangeError(`the signing key is ${pub.asymmetricKeyType ?? 'of no known type'}, not Ed25519: make one with vws image keygen`);
  const full: ImageStatement = { type: STATEMENT_TYPE, ...statement, signer: keyIdOf(pub) };
  const problem = statementProblem(full);
  if (problem) throw new RangeError(problem);
  const payload = Buffer.from(canonicalJson(full), 'utf8');
  const signature = sign(null, pae(PAYLOAD_TYPE, payload), priv);
  return { payloadType: PAYLOAD_TYPE, payload: payload.toString('base64'), keyId: full.signer, signature: signature.toString('base64'), publicKey: pub.export({ type: 'spki', format: 'pem' }).toString() };
}

export type Checked = { ok: true; statement: ImageStatement } | { ok: false; reason: string };

/**
 * The envelope's statement if `key` (SPKI PEM; the envelope's own when not given) made its
 * signature over exactly its payload, the payload is canonical and well formed, and its signer is
 * that key; else why not. Says nothing about whether the key is trusted.
 */
export function openEnvelope(envelope: StatementEnvelope, key?: string): Checked {
  if (envelope.payloadType !== PAYLOAD_TYPE) return { ok: false, reason: `the envelope's payloadType is ${JSON.stringify(envelope.payloadType)}, not ${PAYLOAD_TYPE}` };
  let pub: KeyObject;
  try {
    pub = publicKeyOf(key ?? envelope.publicKey);
  } catch (e) {
    return { ok: false, reason: (e as Error).message };
  }
  const keyId = keyIdOf(pub);
  if (keyId !== envelope.keyId) return { ok: false, reason: `the envelope names key ${envelope.keyId}, but the key given is ${keyId}` };
  const payload = Buffer.from(envelope.payload, 'base64');
  const signature = Buffer.from(envelope.signature, 'base64');
  if (payload.toString('base64') !== envelope.payload || signature.toString('base64') !== envelope.signature) return { ok: false, reason: 'the payload and signature must be base64' };
  if (!verify(null, pae(envelope.payloadType, payload), pub, signature)) {
    return { ok: false, reason: `the signature does not verify with key ${keyId}: it was made over other bytes (the statement was changed after signing) or by another key` };
  }
  let statement: unknown;
  try {
    statement = JSON.parse(payload.toString('utf8'));
  } catch {
    return { ok: false, reason: 'the signed payload is not JSON' };
  }
  const problem = statementProblem(statement);
  if (problem) return { ok: false, reason: problem };
  if (canonicalJson(statement) !== payload.toString('utf8')) return { ok: false, reason: 'the signed payload is not in canonical form (sorted keys, no whitespace): sign it with vws image sign' };
  const st = statement as ImageStatement;
  if (st.signer !== keyId) return { ok: false, reason: `the statement names signer ${st.signer}, but key ${keyId} signed it` };
  return { ok: true, statement: st };
}

/** Why the statement is not about this content (sha256 and, when known, its size in bytes), or null. */
export function subjectMismatch(statement: ImageStatement, sha256: string, sizeBytes?: number): string | null {
  if (statement.subject.sha256 !== sha256) return `the statement is about other bytes: its subject's sha256 is ${statement.subject.sha256}, the image's ${sha256}`;
  if (sizeBytes !== undefined && statement.subject.sizeBytes !== sizeBytes) return `the statement's subject is ${statement.subject.sizeBytes} bytes, the image ${sizeBytes}`;
  return null;
}
