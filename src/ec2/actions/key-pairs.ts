// Create/Import/Describe/DeleteKeyPair: a user's SSH keys by name. RunInstances' KeyName puts the
// public key into the lease's sshPublicKeys, which reach the guest through its seed.

import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import type { KeyPairRow } from '../../store/ec2-records.ts';
import type { Action } from '../action.ts';
import { Ec2Error, invalidValue } from '../errors.ts';
import { newKeyPairId } from '../ids.ts';
import type { Params } from '../query.ts';

const run = promisify(execFile);

const KEY_TYPES = { 'ssh-ed25519': 'ed25519', 'ssh-rsa': 'rsa' } as const;

function readKeyName(p: Params, name = 'KeyName'): string {
  const keyName = p.required(name, 'the key pair\'s name');
  if (keyName.length > 255 || !/^[\x20-\x7e]+$/.test(keyName)) throw invalidValue(name, keyName, 'A key pair name is 1 to 255 printable ASCII characters.');
  return keyName;
}

/** SHA256:base64 of the key blob, as ssh-keygen -l shows it. */
function fingerprintOf(publicKey: string): string {
  const blob = Buffer.from(publicKey.split(' ')[1], 'base64');
  return `SHA256:${createHash('sha256').update(blob).digest('base64').replace(/=+$/, '')}`;
}

/** The OpenSSH public key line, checked to be an ed25519 or RSA key that says so inside. */
function checkPublicKey(text: string): { line: string; type: KeyPairRow['keyType'] } {
  const [kind, b64] = text.trim().split(/\s+/);
  const type = KEY_TYPES[kind as keyof typeof KEY_TYPES];
  const bad = (why: string): Ec2Error => new Ec2Error('InvalidKeyPair.Format', `Key is not in valid OpenSSH public key format: ${why}`);
  if (!type) throw bad(`vws takes ${Object.keys(KEY_TYPES).join(' and ')} keys`);
  if (!b64 || !/^[A-Za-z0-9+/]+={0,2}$/.test(b64)) throw bad('its key is not base64');
  const blob = Buffer.from(b64, 'base64');
  if (blob.length < 4 + kind.length || blob.readUInt32BE(0) !== kind.length || blob.subarray(4, 4 + kind.length).toString('latin1') !== kind) throw bad(`the key inside is not ${kind}`);
  if (blob.length > 2048) throw bad('the key is too long');
  return { line: `${kind} ${b64}`, type };
}

function keyAnswer(k: KeyPairRow) {
  return { keyName: k.name, keyFingerprint: k.fingerprint, keyPairId: k.keyPairId };
}

export const createKeyPair: Action = (p) => {
  const name = readKeyName(p);
  const keyType = p.optional('KeyType') ?? 'rsa';
  if (keyType !== 'rsa' && keyType !== 'ed25519') throw invalidValue('KeyType', keyType, 'Give rsa or ed25519.');
  const format = p.optional('KeyFormat') ?? 'pem';
  if (format !== 'pem') throw invalidValue('KeyFormat', format, 'vws gives private keys as pem only.');
  return async (opts, caller) => {
    if ((await opts.store.keyPairsOf(caller.user.id)).some((k) => k.name === name)) throw new Ec2Error('InvalidKeyPair.Duplicate', `The keypair '${name}' already exists.`);
    // ssh-keygen writes the formats EC2 hands out: PEM for RSA, OpenSSH's for ed25519.
    const dir = await mkdtemp(join(tmpdir(), 'vws-ec2-key-'));
    try {
      const file = join(dir, 'key');
      await run('ssh-keygen', ['-q', '-t', keyType, ...(keyType === 'rsa' ? ['-b', '2048', '-m', 'PEM'] : []), '-N', '', '-C', '', '-f', file]);
      const privateKey = await readFile(file, 'utf8');
      const { line } = checkPublicKey(await readFile(`${file}.pub`, 'utf8'));
      const row: KeyPairRow = { owner: caller.user.id, name, keyPairId: newKeyPairId(), keyType, publicKey: line, fingerprint: fingerprintOf(line), createdAt: opts.now() };
      if (!(await opts.store.addKeyPair(row))) throw new Ec2Error('InvalidKeyPair.Duplicate', `The keypair '${name}' already exists.`);
      return { ...keyAnswer(row), keyMaterial: privateKey };
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  };
};

export const importKeyPair: Action = (p) => {
  const name = readKeyName(p);
  const material = p.required('PublicKeyMaterial', 'the OpenSSH public key, base64-encoded');
  if (material.length > 8192 || !/^[A-Za-z0-9+/]+={0,2}$/.test(material)) throw new Ec2Error('InvalidKeyPair.Format', 'PublicKeyMaterial must be the public key line, base64-encoded (the AWS CLI encodes fileb:// content for you)');
  const { line, type } = checkPublicKey(Buffer.from(material, 'base64').toString('latin1'));
  return async (opts, caller) => {
    const row: KeyPairRow = { owner: caller.user.id, name, keyPairId: newKeyPairId(), keyType: type, publicKey: line, fingerprint: fingerprintOf(line), createdAt: opts.now() };
    if (!(await opts.store.addKeyPair(row))) throw new Ec2Error('InvalidKeyPair.Duplicate', `The keypair '${name}' already exists.`);
    return keyAnswer(row);
  };
};

export const describeKeyPairs: Action = (p) => {
  const names = p.list('KeyName');
  const ids = p.list('KeyPairId');
  return async (opts, caller) => {
    const all = await opts.store.keyPairsOf(caller.user.id);
    const missingName = names.find((n) => !all.some((k) => k.name === n));
    if (missingName !== undefined) throw new Ec2Error('InvalidKeyPair.NotFound', `The key pair '${missingName.slice(0, 255)}' does not exist`);
    const missingId = ids.find((n) => !all.some((k) => k.keyPairId === n));
    if (missingId !== undefined) throw new Ec2Error('InvalidKeyPair.NotFound', `The key pair '${missingId.slice(0, 255)}' does not exist`);
    const chosen = all.filter((k) => (names.length === 0 || names.includes(k.name)) && (ids.length === 0 || ids.includes(k.keyPairId)));
    return {
      keySet: chosen.map((k) => ({ ...keyAnswer(k), keyType: k.keyType, tagSet: [], createTime: new Date(k.createdAt * 1000).toISOString() })),
    };
  };
};

/** As EC2: deleting a key pair that is not there succeeds too. */
export const deleteKeyPair: Action = (p) => {
  const name = p.optional('KeyName');
  const id = p.optional('KeyPairId');
  if (name === undefined && id === undefined) throw new Ec2Error('MissingParameter', 'The request must contain the parameter KeyName or KeyPairId');
  return async (opts, caller) => {
    const k = (await opts.store.keyPairsOf(caller.user.id)).find((x) => (name === undefined || x.name === name) && (id === undefined || x.keyPairId === id));
    if (k) await opts.store.deleteKeyPair(caller.user.id, k.name);
    return { return: true };
  };
};
