// A lease body's shape in the scheduler's terms: one shape (nodes, cpu, memoryMiB) or roles, never
// both; and the fields that reach its guests (user-data, ssh keys), checked beyond their schemas.

import { userDataType } from '../seed/seed-input.ts';
import { checkRoles, clusterEnvelope } from '../core/roles.ts';
import type { ClusterRole, ImageRef, LeaseRequest, Resources } from '../core/types.ts';
import type { Store } from '../store/store.ts';
import type { Caller } from './auth.ts';
import { MOST_USER_DATA_BYTES, SSH_KEY_TYPES } from './cluster-schemas.ts';
import { invalidRequest } from './errors.ts';
import { checkMinimum } from './image-catalogue.ts';
import { imageForLease } from './image-rights.ts';
import { MOST_NODES } from './limits.ts';
import { limitsOf } from '../drivers/leased-limits.ts';
import type { LeaseSpec } from './schemas.ts';

type RoleSpec = NonNullable<LeaseSpec['roles']>[number];

/** The fields a lease of one shape names, which a cluster names per role instead. */
const SHAPE_FIELDS = ['nodes', 'cpu', 'memoryMiB', 'diskMiB', 'bandwidthMbps', 'diskMBps', 'diskIops', 'image'] as const;

export type Shape = Pick<LeaseRequest, 'nodes' | 'perNode' | 'image' | 'roles'>;

/** What the lease asks of the pool, from its one shape or its roles; every image one the caller may use, with VMs of at least its minimum. */
export async function shapeOf(store: Store, caller: Caller, spec: LeaseSpec, at: string, now: number): Promise<Shape> {
  if (spec.roles === undefined) return plainShape(store, caller, spec, at, now);
  const both = SHAPE_FIELDS.filter((f) => spec[f] !== undefined);
  if (both.length > 0) {
    throw invalidRequest(`${at}.${both[0]}`, `a lease with roles names ${both.join(', ')} per role, not for the whole lease: move ${both.length > 1 ? 'them' : 'it'} into each role, or drop roles for a lease of one shape`);
  }
  const roles = spec.roles.map(roleOf);
  const bad = checkRoles(roles);
  if (bad) throw invalidRequest(`${at}.roles`, bad.message);
  const envelope = clusterEnvelope(roles);
  if (envelope.nodes > MOST_NODES) throw invalidRequest(`${at}.roles`, `the roles' counts add up to ${envelope.nodes} VMs; a lease has at most ${MOST_NODES}`);
  for (const [i, r] of spec.roles.entries()) {
    if (r.image === undefined) continue;
    const image = await imageForLease(store, caller, r.image, `${at}.roles.${i}.image`, now);
    checkMinimum(image, roles[i].perNode, `${at}.roles.${i}.image`, `role '${r.name}' (each of its VMs)`);
    roles[i] = { ...roles[i], image: { id: image.name, sizeMiB: image.sizeMiB } };
  }
  return { ...envelope, roles };
}

async function plainShape(store: Store, caller: Caller, spec: LeaseSpec, at: string, now: number): Promise<Shape> {
  const missing = (['nodes', 'cpu', 'memoryMiB'] as const).filter((f) => spec[f] === undefined);
  if (missing.length === 3) throw invalidRequest(at, 'name the lease\'s shape: nodes, cpu and memoryMiB for VMs of one shape, or roles for a cluster');
  if (missing.length > 0) throw invalidRequest(`${at}.${missing[0]}`, `a lease of one shape needs nodes, cpu and memoryMiB: add ${missing.join(' and ')}`);
  const shape: Shape = { nodes: spec.nodes!, perNode: { cpu: spec.cpu!, memoryMiB: spec.memoryMiB!, diskMiB: spec.diskMiB ?? 0, ...limitsOf(spec) } };
  if (spec.image !== undefined) {
    const image = await imageForLease(store, caller, spec.image, `${at}.image`, now);
    checkMinimum(image, shape.perNode, `${at}.image`);
    shape.image = { id: image.name, sizeMiB: image.sizeMiB } satisfies ImageRef;
  }
  return shape;
}

function roleOf(r: RoleSpec): ClusterRole {
  const perNode: Resources = { cpu: r.cpu, memoryMiB: r.memoryMiB, diskMiB: r.diskMiB ?? 0, ...limitsOf(r) };
  const role: ClusterRole = { name: r.name, count: r.count, perNode, networks: r.networks, provides: r.provides, requires: r.requires };
  if (r.minCount !== undefined) role.minCount = r.minCount;
  return role;
}

/** A role back in the API's terms. */
export function roleSpecOf(r: ClusterRole): RoleSpec {
  const spec: RoleSpec = {
    name: r.name, count: r.count, cpu: r.perNode.cpu, memoryMiB: r.perNode.memoryMiB, diskMiB: r.perNode.diskMiB, ...limitsOf(r.perNode),
    networks: [...r.networks], provides: [...r.provides], requires: [...r.requires],
  };
  if (r.image) spec.image = r.image.id;
  if (r.minCount !== undefined) spec.minCount = r.minCount;
  return spec;
}

/** The user-data and keys for the lease's guests, checked beyond what a schema says. */
export function guestFields(spec: LeaseSpec, at: string): Pick<LeaseRequest, 'userData' | 'sshPublicKeys'> {
  const out: Pick<LeaseRequest, 'userData' | 'sshPublicKeys'> = {};
  if (spec.userData !== undefined) {
    const bytes = Buffer.byteLength(spec.userData, 'utf8');
    if (bytes > MOST_USER_DATA_BYTES) throw invalidRequest(`${at}.userData`, `is ${bytes} bytes of UTF-8; user-data takes at most ${MOST_USER_DATA_BYTES}: shorten it, or have it fetch the rest`);
    // What the guests' seeds take (src/seed): refused now rather than when a VM starts.
    const type = userDataType(spec.userData);
    if ('problem' in type) throw invalidRequest(`${at}.userData`, type.problem);
    out.userData = spec.userData;
  }
  if (spec.sshPublicKeys !== undefined) {
    spec.sshPublicKeys.forEach((key, i) => {
      const problem = sshKeyProblem(key);
      if (problem) throw invalidRequest(`${at}.sshPublicKeys.${i}`, `${problem}: give the line of an OpenSSH .pub file (${SSH_KEY_TYPES.join(', ')})`);
    });
    if (new Set(spec.sshPublicKeys).size !== spec.sshPublicKeys.length) throw invalidRequest(`${at}.sshPublicKeys`, 'a key is given twice: give each once');
    out.sshPublicKeys = spec.sshPublicKeys;
  }
  return out;
}

/** What each key type's wire form holds after its name: its fields' sizes, or a check of them. */
const KEY_FIELDS: Record<string, (fields: Buffer[]) => string | null> = {
  'ssh-ed25519': (f) => (f.length === 1 && f[0].length === 32 ? null : 'an ed25519 key is 32 bytes'),
  // e and n; RSA keys under 1024 bits are refused by OpenSSH itself.
  'ssh-rsa': (f) => (f.length === 2 && f[0].length >= 1 && f[1].length >= 128 ? null : 'an RSA key has an exponent and a modulus of at least 1024 bits'),
  'ecdsa-sha2-nistp256': (f) => (f.length === 2 && f[0].toString('latin1') === 'nistp256' && f[1].length === 65 && f[1][0] === 4 ? null : 'a nistp256 key is the curve\'s name and an uncompressed point of 65 bytes'),
};

/**
 * Why a key line that matched the pattern is still not a key, or null: its base64 must hold the
 * SSH wire form (RFC 4253 section 6.6: length-prefixed fields, nothing left over) of the type the
 * line names, with that type's fields (a pasted truncation, or a key of another type under a
 * wrong label, would reach authorized_keys and never work).
 */
export function sshKeyProblem(line: string): string | null {
  const [type, b64] = line.split(' ');
  const blob = Buffer.from(b64, 'base64');
  if (blob.toString('base64') !== b64) return 'its key is not canonical base64';
  const fields: Buffer[] = [];
  for (let at = 0; at < blob.length;) {
    if (at + 4 > blob.length) return 'its key is cut short';
    const length = blob.readUInt32BE(at);
    if (length > blob.length - at - 4) return 'its key is cut short';
    fields.push(blob.subarray(at + 4, at + 4 + length));
    at += 4 + length;
  }
  const inside = fields.shift()?.toString('latin1') ?? '';
  if (inside !== type) return `its key says it is '${inside.slice(0, 40)}', not '${type}'`;
  const check = KEY_FIELDS[type];
  return check ? check(fields) : `unknown key type '${type}'`;
}
