// The rules a cluster lease's roles must follow, shared by every surface that takes them (API,
// CLI, simulator input) and by the core: one place says what a well-formed cluster is.
import { NETWORK_NAMES, refusal, type ClusterRole, type LeaseRequest, type Refusal, type Resources } from './types.ts';

/** Entries every member provides without being asked. */
export const IMPLICIT_ENTRIES: readonly string[] = ['ip', 'hostname', 'host-key'];

/** A role's name: it becomes part of lease ids (`LEASE/ROLE`) and of guests' host names. */
export const ROLE_NAME = /^[a-z][a-z0-9-]{0,30}$/;
/** A context entry's name. */
export const ENTRY_NAME = /^[a-z][a-z0-9-]{0,62}$/;
/** The most roles a cluster may name. */
export const MAX_ROLES = 16;

/** `ROLE.ENTRY` split in two, or null if it is not of that form. */
export function splitRequirement(req: string): { role: string; entry: string } | null {
  const dot = req.indexOf('.');
  if (dot < 0) return null;
  const role = req.slice(0, dot);
  const entry = req.slice(dot + 1);
  return ROLE_NAME.test(role) && ENTRY_NAME.test(entry) ? { role, entry } : null;
}

/**
 * Why these roles do not make a cluster, as a refusal ('invalid') whose message names the role and
 * the field and says what to do; null when they do. Checks what no schema can: unique names, a
 * minimum within the count, and that every requirement names a role that provides the entry.
 */
export function checkRoles(roles: readonly ClusterRole[]): Refusal | null {
  if (roles.length === 0) return refusal('invalid', 'roles: a cluster names at least one role');
  if (roles.length > MAX_ROLES) return refusal('invalid', `roles: a cluster names at most ${MAX_ROLES} roles, not ${roles.length}`);
  const byName = new Map<string, ClusterRole>();
  for (const r of roles) {
    if (!ROLE_NAME.test(r.name)) return refusal('invalid', `roles: '${r.name}' is not a role name: use a lower-case letter then up to 30 of a-z, 0-9 and '-'`);
    if (byName.has(r.name)) return refusal('invalid', `roles: the name '${r.name}' is used twice; give each role its own`);
    byName.set(r.name, r);
  }
  for (const r of roles) {
    const bad = checkRole(r);
    if (bad) return bad;
  }
  for (const r of roles) {
    for (const req of r.requires) {
      const parts = splitRequirement(req);
      if (!parts) return refusal('invalid', `role '${r.name}': requirement '${req}' is not of the form ROLE.ENTRY (for example head.ip)`);
      const provider = byName.get(parts.role);
      if (!provider) return refusal('invalid', `role '${r.name}' requires '${req}', but the cluster has no role '${parts.role}' (roles: ${[...byName.keys()].join(', ')})`);
      if (!IMPLICIT_ENTRIES.includes(parts.entry) && !provider.provides.includes(parts.entry)) {
        return refusal('invalid', `role '${r.name}' requires '${req}', which role '${parts.role}' does not provide: add '${parts.entry}' to its provides, or drop the requirement`);
      }
    }
  }
  return null;
}

function checkRole(r: ClusterRole): Refusal | null {
  const where = `role '${r.name}'`;
  if (!Number.isSafeInteger(r.count) || r.count < 1) return refusal('invalid', `${where}: count must be a whole number of at least 1`);
  if (r.minCount !== undefined && (!Number.isSafeInteger(r.minCount) || r.minCount < 1 || r.minCount > r.count)) {
    return refusal('invalid', `${where}: minCount must be a whole number from 1 to its count (${r.count})`);
  }
  if (r.networks.length === 0) return refusal('invalid', `${where}: name at least one network (${NETWORK_NAMES.join(' or ')})`);
  for (const n of r.networks) if (!NETWORK_NAMES.includes(n)) return refusal('invalid', `${where}: unknown network '${n}' (use ${NETWORK_NAMES.join(' or ')})`);
  if (new Set(r.networks).size !== r.networks.length) return refusal('invalid', `${where}: a network is named twice`);
  for (const e of r.provides) {
    if (!ENTRY_NAME.test(e)) return refusal('invalid', `${where}: '${e}' is not an entry name: use a lower-case letter then up to 62 of a-z, 0-9 and '-'`);
    if (IMPLICIT_ENTRIES.includes(e)) return refusal('invalid', `${where}: '${e}' is provided by every member already; leave it out of provides`);
  }
  if (new Set(r.provides).size !== r.provides.length) return refusal('invalid', `${where}: an entry is named twice in provides`);
  if (new Set(r.requires).size !== r.requires.length) return refusal('invalid', `${where}: a requirement is named twice`);
  return null;
}

/** What a cluster asks of the pool as a plain lease would: all its VMs, each as large as the largest role in each resource. */
export function clusterEnvelope(roles: readonly ClusterRole[]): { nodes: number; perNode: Resources } {
  let nodes = 0;
  const perNode = { cpu: 0, memoryMiB: 0, diskMiB: 0 };
  for (const r of roles) {
    nodes += r.count;
    perNode.cpu = Math.max(perNode.cpu, r.perNode.cpu);
    perNode.memoryMiB = Math.max(perNode.memoryMiB, r.perNode.memoryMiB);
    perNode.diskMiB = Math.max(perNode.diskMiB, r.perNode.diskMiB);
  }
  return { nodes, perNode };
}

/** One member of a cluster: the `index`-th VM of role number `role`. */
export interface Member {
  role: number;
  index: number;
}

/**
 * A cluster's members role by role in the request's order, `count` each: the order in which the
 * core lists a cluster's nodes (a node once per member it holds), so that workspace k of a
 * cluster is member k here for the service and the core alike.
 */
export function membersOf(roles: readonly ClusterRole[]): Member[] {
  const out: Member[] = [];
  roles.forEach((r, role) => {
    for (let index = 0; index < r.count; index++) out.push({ role, index });
  });
  return out;
}

/** Role numbers in the order a cluster's node choice serves them: largest cpu×memory first, then by name. */
export function choiceOrder(roles: readonly ClusterRole[]): number[] {
  const size = (r: ClusterRole): number => r.perNode.cpu * r.perNode.memoryMiB;
  return roles.map((_, k) => k).sort((a, b) => size(roles[b]) - size(roles[a]) || (roles[a].name < roles[b].name ? -1 : roles[a].name > roles[b].name ? 1 : 0));
}

/** A cluster's member node list (role by role) cut back into one list per role. */
export function splitByRole(roles: readonly ClusterRole[], members: readonly number[]): number[][] {
  const out: number[][] = [];
  let at = 0;
  for (const r of roles) {
    out.push(members.slice(at, at + r.count));
    at += r.count;
  }
  return out;
}

/** One shape of a request's VMs and how many have it: a cluster's per role (`role`, its index), else the request's own. */
export interface VmShape {
  count: number;
  perNode: Resources;
  role: number | undefined;
}

/** A request's VMs by shape, for what is priced or billed per VM (an EC2 instance each). */
export function vmShapes(req: Pick<LeaseRequest, 'roles' | 'nodes' | 'perNode'>): VmShape[] {
  return req.roles ? req.roles.map((r, k) => ({ count: r.count, perNode: r.perNode, role: k })) : [{ count: req.nodes, perNode: req.perNode, role: undefined }];
}
