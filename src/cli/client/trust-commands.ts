// vws image keygen | sign | verify and vws trust add-signer | list | remove (issue 17, item 5;
// docs/trust.md). An appliance provider makes an Ed25519 key pair and signs a statement about an
// image file (its sha256 and size, hashed here, and claims); the image's owner attaches it to the
// registered image; the site's administrators say which signers they trust. `verify` checks a file
// against a statement locally, or asks the server what it holds and whether its policy accepts it.

import { createHash, generateKeyPairSync } from 'node:crypto';
import { createReadStream, existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { type Claim, keyIdOf, openEnvelope, signStatement, type StatementEnvelope, subjectMismatch, timeOf } from '../../drivers/image-statement.ts';
import { UsageError } from '../usage-error.ts';
import { type Command, connect, emit, enc, now } from './command.ts';
import { table, when } from './tables.ts';

async function digestOf(path: string): Promise<{ sha256: string; sizeBytes: number }> {
  let st;
  try {
    st = statSync(path);
  } catch {
    throw new UsageError(`${path}: no such file: give the image file the statement is about`);
  }
  if (!st.isFile()) throw new UsageError(`${path}: not a regular file`);
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(path)) hash.update(chunk as Buffer);
  return { sha256: hash.digest('hex'), sizeBytes: st.size };
}

function readText(path: string, what: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    throw new UsageError(`${path}: cannot read ${what}`);
  }
}

/** A date (YYYY-MM-DD, midnight UTC) or an RFC 3339 time, as the statement's RFC 3339 UTC time. */
function timeOption(name: string, text: string): string {
  const ms = Date.parse(/^\d{4}-\d{2}-\d{2}$/.test(text) ? `${text}T00:00:00Z` : text);
  if (!/^\d{4}-\d{2}-\d{2}/.test(text) || Number.isNaN(ms)) throw new UsageError(`--${name} must be a date (2027-01-01) or a time (2027-01-01T12:00:00Z), got '${text}'`);
  return timeOf(Math.floor(ms / 1000));
}

function pairs(name: string, values: string[]): Array<[string, string]> {
  return values.map((v) => {
    const at = v.indexOf('=');
    if (at <= 0) throw new UsageError(`--${name} takes NAME=VALUE, got '${v}'`);
    return [v.slice(0, at), v.slice(at + 1)];
  });
}

const keygen: Command = async (args) => {
  const dir = args.required('out', 'DIR (where to write signing.key.pem and signing.pub.pem)');
  const [priv, pub] = [join(dir, 'signing.key.pem'), join(dir, 'signing.pub.pem')];
  if (existsSync(priv)) throw new UsageError(`${priv} exists: keygen does not replace a signing key; give another --out`);
  const { publicKey, privateKey } = generateKeyPairSync('ed25519');
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  writeFileSync(priv, privateKey.export({ type: 'pkcs8', format: 'pem' }), { mode: 0o600 });
  writeFileSync(pub, publicKey.export({ type: 'spki', format: 'pem' }));
  const keyId = keyIdOf(publicKey);
  return emit(args, { keyId, privateKey: priv, publicKey: pub }, () => `key ${keyId}: private ${priv} (keep it secret), public ${pub} (give it to sites: vws trust add-signer)`);
};

const sign: Command = async (args) => {
  const file = args.positionals[0];
  const key = readText(args.required('key', 'KEY (a private key PEM from vws image keygen)'), 'the signing key');
  const name = args.required('name', 'NAME (the image the statement is about)');
  const claims: Record<string, Claim> = Object.fromEntries(pairs('claim', args.list('claim')).map(([k, v]) => [k, { value: v }]));
  for (const [k, v] of pairs('claim-expires', args.list('claim-expires'))) {
    if (!claims[k]) throw new UsageError(`--claim-expires ${k}=...: there is no --claim ${k}=VALUE to expire`);
    claims[k].expiresAt = timeOption('claim-expires', v);
  }
  const expires = args.string('expires');
  const description = args.string('description');
  let envelope: StatementEnvelope;
  try {
    envelope = signStatement({
      subject: { name, ...(await digestOf(file)) }, claims, issuedAt: timeOf(now()),
      ...(description !== undefined ? { description } : {}), ...(expires !== undefined ? { expiresAt: timeOption('expires', expires) } : {}),
    }, key);
  } catch (e) {
    if (e instanceof UsageError) throw e;
    throw new UsageError(`cannot sign: ${(e as Error).message}`);
  }
  const out = args.string('out');
  if (out) writeFileSync(out, `${JSON.stringify(envelope, null, 2)}\n`);
  const attached = args.flag('upload') ? (await connect(args).send<unknown>('POST', `/v1/images/${enc(name)}/statements`, envelope)).body : null;
  if (!out && !attached) process.stdout.write(`${JSON.stringify(envelope, null, 2)}\n`);
  if (!out && !attached) return 0;
  return emit(args, { envelope, attached }, () => [out ? `statement by key ${envelope.keyId} written to ${out}` : '', attached ? `attached to image ${name}` : ''].filter(Boolean).join('; '));
};

interface ServerVerdict {
  image: string; sha256: string; policy: string; accepted: boolean;
  reasons: Array<{ code: string; message: string }>;
  statements: Array<{ keyId: string; signer: string | null; statement: { claims: Record<string, Claim>; issuedAt: string; expiresAt?: string } | null; problem?: string }>;
}

const verify: Command = async (args) => {
  const [subject, statementFile] = args.positionals;
  if (statementFile === undefined) {
    const v = (await connect(args).get<ServerVerdict>(`/v1/images/${enc(subject)}/statements`)).body;
    emit(args, v, () => [
      `image ${v.image} (sha256 ${v.sha256}) under policy '${v.policy}': ${v.accepted ? 'accepted' : 'refused'}`,
      ...v.reasons.map((r) => `  ${r.code}: ${r.message}`),
      v.statements.length === 0 ? 'no statements' : table(['KEY', 'SIGNER', 'CLAIMS', 'ISSUED', 'EXPIRES'], v.statements.map((s) => [
        s.keyId, s.signer ?? '(not trusted)', s.statement ? Object.entries(s.statement.claims).map(([k, c]) => `${k}=${c.value}`).join(' ') : `(${s.problem})`, s.statement?.issuedAt ?? '', s.statement?.expiresAt ?? '',
      ])),
    ].join('\n'));
    return v.accepted ? 0 : 1;
  }
  const signer = args.required('signer', 'PUB.pem (the public key you trust for it)');
  let envelope: StatementEnvelope;
  try {
    envelope = JSON.parse(readText(statementFile, 'the statement')) as StatementEnvelope;
  } catch (e) {
    if (e instanceof UsageError) throw e;
    throw new UsageError(`${statementFile}: not JSON: give the file vws image sign --out wrote`);
  }
  const opened = openEnvelope(envelope, readText(signer, 'the signer\'s public key'));
  const file = await digestOf(subject);
  const mismatch = opened.ok ? subjectMismatch(opened.statement, file.sha256, file.sizeBytes) : null;
  const expired = opened.ok && opened.statement.expiresAt !== undefined && Date.parse(opened.statement.expiresAt) <= Date.now() ? `the statement expired at ${opened.statement.expiresAt}` : null;
  const problem = opened.ok ? mismatch ?? expired : opened.reason;
  emit(args, { ok: problem === null, problem, statement: opened.ok ? opened.statement : null }, () => (problem === null ? `verified: ${subject} is the subject of the statement by key ${envelope.keyId}` : `not verified: ${problem}`));
  return problem === null ? 0 : 1;
};

const addSigner: Command = async (args) => {
  const name = args.positionals[0];
  const publicKey = readText(args.required('key', 'PUB.pem (the signer\'s public key)'), 'the public key');
  const claims = args.string('claims');
  const body = { name, publicKey, ...(claims !== undefined ? { claims: claims.split(',').map((c) => c.trim()).filter(Boolean) } : {}) };
  const row = (await connect(args).send<{ name: string; keyId: string; claims: string[] | null }>('POST', '/v1/trust/signers', body)).body;
  return emit(args, row, () => `signer ${row.name} (key ${row.keyId}) trusted for ${row.claims === null ? 'every claim' : row.claims.join(', ') || 'no claim'}`);
};

const listSigners: Command = async (args) => {
  const api = connect(args);
  const { signers } = (await api.get<{ signers: Array<{ name: string; keyId: string; claims: string[] | null; addedBy: string; addedAt: number }> }>('/v1/trust/signers')).body;
  const policy = (await api.get<{ require: string; claims: Array<{ name: string; maxAgeDays?: number }> }>('/v1/trust/policy')).body;
  return emit(args, { signers, policy }, () => [
    `policy: ${policy.require}${policy.claims.length ? `; claims required: ${policy.claims.map((c) => (c.maxAgeDays ? `${c.name} (within ${c.maxAgeDays} days)` : c.name)).join(', ')}` : ''}`,
    signers.length === 0 ? 'no trusted signers' : table(['NAME', 'KEY', 'CLAIMS', 'ADDED BY', 'ADDED'], signers.map((s) => [s.name, s.keyId, s.claims === null ? '(all)' : s.claims.join(','), s.addedBy, when(s.addedAt)])),
  ].join('\n'));
};

const removeSigner: Command = async (args) => {
  const name = args.positionals[0];
  await connect(args).send('DELETE', `/v1/trust/signers/${enc(name)}`);
  return emit(args, { removed: name }, () => `signer ${name} is no longer trusted`);
};

const policy: Command = async (args) => {
  const require = args.required('require', 'none|signed|signed-unless-admin');
  const claims = args.list('claim').map((c) => {
    const m = /^([^:]+)(?::(\d+))?$/.exec(c);
    if (!m) throw new UsageError(`--claim takes NAME or NAME:DAYS (the claim's date no older than DAYS), got '${c}'`);
    return { name: m[1], ...(m[2] !== undefined ? { maxAgeDays: Number(m[2]) } : {}) };
  });
  const set = (await connect(args).send<{ require: string }>('PUT', '/v1/trust/policy', { require, claims })).body;
  return emit(args, set, () => `trust policy: ${set.require}${claims.length ? `; claims required: ${args.list('claim').join(', ')}` : ''}`);
};

export const TRUST_IMAGE_COMMANDS: Record<string, Command> = { keygen, sign, verify };
export const TRUST_COMMANDS: Record<string, Command> = { 'add-signer': addSigner, list: listSigners, remove: removeSigner, policy };
