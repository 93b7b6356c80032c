// What a cluster registered with the broker must be: checked once, at registration, so that the
// rules can take the spec as given. Registration comes from the service itself (a cluster lease's
// deployment), but from input that users wrote (roles, files, keys), so every bound is checked.

import { isIP } from 'node:net';
import { MEMBER_ID } from '../seed/seed-input.ts';
import { ENTRY_NAME, IMPLICIT_ENTRIES, ROLE_NAME, splitRequirement } from '../core/roles.ts';
import type { ClusterRole } from '../core/types.ts';
import type { BrokerMember, BrokerRole, RoleFile, StepTimeouts } from './types.ts';

export const LIMITS = {
  members: 10_000,
  ownerKeys: 64,
  keyChars: 16_384,
  filesPerRole: 32,
  fileChars: 1024 * 1024,
  pathChars: 1024,
  longestStep: 86_400,
} as const;

/** A host name: labels of letters, digits and '-', as /etc/hosts and ssh take them. */
export const HOSTNAME = /^(?=.{1,253}$)[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*$/;
export { MEMBER_ID } from '../seed/seed-input.ts';

export interface Registration {
  leaseId: string;
  ownerKeys: readonly string[];
  roles: readonly BrokerRole[];
  members: readonly BrokerMember[];
  timeouts?: Partial<StepTimeouts>;
}

/** Why this cluster cannot be registered, said so that the caller can fix it; null when it can. */
export function registrationProblem(r: Registration): string | null {
  if (typeof r.leaseId !== 'string' || r.leaseId.length === 0 || r.leaseId.length > 256) return 'leaseId: the lease id, 1 to 256 characters';
  if (r.ownerKeys.length > LIMITS.ownerKeys) return `ownerKeys: at most ${LIMITS.ownerKeys} keys`;
  for (const k of r.ownerKeys) {
    if (k.length === 0 || k.length > LIMITS.keyChars || /[\r\n]/.test(k)) return `ownerKeys: each key is one line of 1 to ${LIMITS.keyChars} characters, as in authorized_keys`;
  }
  const roles = new Map<string, BrokerRole>();
  for (const role of r.roles) {
    if (!ROLE_NAME.test(role.name) || roles.has(role.name)) return `roles: '${role.name}' is not a role name, or is named twice`;
    roles.set(role.name, role);
    const bad = roleProblem(role);
    if (bad) return `role '${role.name}': ${bad}`;
  }
  if (roles.size === 0) return 'roles: a cluster has at least one role';
  for (const role of r.roles) {
    for (const q of role.requires) {
      const parts = splitRequirement(q);
      const provider = parts && roles.get(parts.role);
      if (!parts || !provider || (!IMPLICIT_ENTRIES.includes(parts.entry) && !provider.provides.includes(parts.entry))) {
        return `role '${role.name}': requirement '${q}' names no entry a role of this cluster provides`;
      }
    }
  }
  if (r.members.length > LIMITS.members) return `members: at most ${LIMITS.members}`;
  const ids = new Set<string>();
  const slots = new Set<string>();
  const hostnames = new Set<string>();
  for (const m of r.members) {
    if (!MEMBER_ID.test(m.id) || ids.has(m.id)) return `members: '${m.id}' is not a member id (letters, digits, . _ / -; up to 128) or is used twice`;
    if (!roles.has(m.role)) return `members: '${m.id}' has role '${m.role}', which the cluster does not have`;
    if (!HOSTNAME.test(m.hostname) || hostnames.has(m.hostname.toLowerCase())) return `members: '${m.id}' has host name '${m.hostname}', which is not a host name or is used twice`;
    if (m.ip !== undefined && isIP(m.ip) === 0) return `members: '${m.id}' has ip '${m.ip}', which is not an IPv4 or IPv6 address`;
    const slot = `${m.role}/${m.index}`;
    if (!Number.isSafeInteger(m.index) || m.index < 0 || m.index >= roles.get(m.role)!.count || slots.has(slot)) return `members: '${m.id}' has index ${m.index}, outside 0..count-1 of its role or taken`;
    ids.add(m.id);
    slots.add(slot);
    hostnames.add(m.hostname.toLowerCase());
  }
  const counted = r.roles.reduce((n, role) => n + role.count, 0);
  if (counted !== r.members.length) return `members: the roles count ${counted} members, but ${r.members.length} are given`;
  for (const [step, seconds] of Object.entries(r.timeouts ?? {})) {
    if (!Number.isSafeInteger(seconds) || seconds < 1 || seconds > LIMITS.longestStep) return `timeouts.${step}: a whole number of seconds from 1 to ${LIMITS.longestStep}`;
  }
  return null;
}

function roleProblem(role: BrokerRole): string | null {
  if (!Number.isSafeInteger(role.count) || role.count < 1) return 'count must be a whole number of at least 1';
  if (role.minCount !== undefined && (!Number.isSafeInteger(role.minCount) || role.minCount < 1 || role.minCount > role.count)) return `minCount must be from 1 to ${role.count}`;
  for (const e of role.provides) if (!ENTRY_NAME.test(e) || IMPLICIT_ENTRIES.includes(e)) return `provides: '${e}' is not an entry name, or is one every member provides already`;
  if (role.files.length > LIMITS.filesPerRole) return `files: at most ${LIMITS.filesPerRole}`;
  const paths = new Set<string>();
  for (const f of role.files) {
    if (!f.path.startsWith('/') || f.path.length > LIMITS.pathChars || f.path.split('/').some((s) => s === '..' || s === '.') || /[\0\r\n]/.test(f.path) || f.path.endsWith('/')) {
      return `files: '${f.path.slice(0, 80)}' is not an absolute file path without '.' or '..' (up to ${LIMITS.pathChars} characters)`;
    }
    if (paths.has(f.path)) return `files: '${f.path}' is named twice`;
    paths.add(f.path);
    if (f.content.length > LIMITS.fileChars) return `files: '${f.path}' is longer than ${LIMITS.fileChars} characters`;
    if (!Number.isSafeInteger(f.mode) || f.mode < 0 || f.mode > 0o7777) return `files: '${f.path}' has mode ${f.mode}, not from 0 to 0o7777`;
  }
  return null;
}

/** One VM of a cluster lease as the service placed it: its role, its number in the role, its host name and address. */
export interface PlacedMember {
  role: string;
  index: number;
  hostname: string;
  /** Its address on the cluster's network when the service gave it one (DHCP): it must report this one. */
  ip?: string | null;
}

/**
 * A member's id in the broker and in its seed: `ROLE-K` for member K of its role (workspace
 * naming's order), short and the same whatever the lease is called.
 */
export const memberIdOf = (role: string, k: number): string => `${role}-${k}`;

/**
 * A cluster lease's registration from its roles (as the lease asked, core ClusterRole) and its
 * placed VMs: member ids are `ROLE-K`, each role gets the files given for it (none by default).
 */
export function clusterRegistration(
  leaseId: string,
  roles: readonly ClusterRole[],
  placed: readonly PlacedMember[],
  ownerKeys: readonly string[],
  files: Readonly<Record<string, readonly RoleFile[]>> = {},
  timeouts?: Partial<StepTimeouts>,
): Registration {
  return {
    leaseId, ownerKeys,
    roles: roles.map((r) => ({
      name: r.name, count: r.count, ...(r.minCount !== undefined ? { minCount: r.minCount } : {}),
      provides: r.provides, requires: r.requires, files: files[r.name] ?? [],
    })),
    members: placed.map((m) => ({ id: memberIdOf(m.role, m.index), role: m.role, index: m.index, hostname: m.hostname, ...(m.ip ? { ip: m.ip } : {}) })),
    ...(timeouts ? { timeouts } : {}),
  };
}
