// Instance ids a request names, checked against the caller's own instances: a malformed id is
// InvalidInstanceID.Malformed, and any id that is not the caller's, whether it is another user's
// or nobody's, is InvalidInstanceID.NotFound, so that no answer gives another user's away.

import type { Ec2Caller, Ec2Options } from './context.ts';
import { Ec2Error } from './errors.ts';
import { INSTANCE_ID, instanceIdOf } from './ids.ts';
import { type Instance, instancesOfLease, ownLeases, shown } from './instance-view.ts';
import type { Params } from './query.ts';

export function readInstanceIds(p: Params, required: boolean): string[] {
  const ids = p.list('InstanceId');
  if (required && ids.length === 0) throw new Ec2Error('MissingParameter', 'The request must contain the parameter InstanceId (InstanceId.1, InstanceId.2, ...)');
  return checkInstanceIds(ids);
}

/** Refuses a malformed or repeated id. */
export function checkInstanceIds(ids: string[]): string[] {
  for (const id of ids) if (!INSTANCE_ID.test(id)) throw new Ec2Error('InvalidInstanceID.Malformed', `Invalid id: "${id.slice(0, 100)}"`);
  if (new Set(ids).size !== ids.length) throw new Ec2Error('InvalidParameterValue', 'An instance id is given twice: give each once');
  return ids;
}

/**
 * Where each instance id seen is (its lease and index): ids are hashes, so the front-end keeps
 * this map rather than list the caller's leases on every request that names instances. A lease's
 * id, owner and size never change, so an entry never goes stale; one missing is looked for among
 * the caller's leases again.
 */
const located = new WeakMap<Ec2Options, Map<string, string>>();

async function leaseIdsOf(opts: Ec2Options, caller: Ec2Caller, ids: string[]): Promise<Map<string, string>> {
  const known = located.get(opts) ?? new Map<string, string>();
  located.set(opts, known);
  if (ids.some((id) => !known.has(id))) {
    for (const l of await ownLeases(opts, caller)) for (let k = 0; k < l.request.nodes; k++) known.set(instanceIdOf(l.id, k), l.id);
  }
  return known;
}

/** The caller's instances of these ids, in the order given. */
export async function ownInstancesNamed(opts: Ec2Options, caller: Ec2Caller, ids: string[]): Promise<Instance[]> {
  const known = await leaseIdsOf(opts, caller, ids);
  const own = new Map<string, Instance>();
  for (const leaseId of new Set(ids.map((id) => known.get(id)).filter((l) => l !== undefined))) {
    const lease = await opts.store.getLease(leaseId);
    // Another user's lease, or one no longer shown, is answered as an id nobody has.
    if (!lease || lease.owner !== caller.user.id || !shown(lease, opts.now())) continue;
    for (const i of await instancesOfLease(opts, lease)) own.set(i.id, i);
  }
  const unknown = ids.filter((id) => !own.has(id));
  if (unknown.length > 0) throw new Ec2Error('InvalidInstanceID.NotFound', `The instance ID${unknown.length > 1 ? 's' : ''} '${unknown.join(', ')}' do${unknown.length > 1 ? '' : 'es'} not exist`);
  return ids.map((id) => own.get(id)!);
}

/**
 * The leases the instances belong to. vws moves a lease's VMs together, so an action on some of
 * a multi-VM lease's instances is refused (nothing done) rather than applied to the others too.
 */
export async function wholeLeases(opts: Ec2Options, caller: Ec2Caller, ids: string[], action: string): Promise<Map<string, Instance[]>> {
  const named = await ownInstancesNamed(opts, caller, ids);
  const byLease = new Map<string, Instance[]>();
  for (const i of named) byLease.set(i.lease.id, [...(byLease.get(i.lease.id) ?? []), i]);
  for (const [, list] of byLease) {
    const total = list[0].lease.request.nodes;
    if (list.length !== total) {
      throw new Ec2Error('InvalidParameterValue', `Instances ${list.map((i) => i.id).join(', ')} were launched together with ${total - list.length} other(s) in one vws lease, whose VMs ${action} together: name all ${total} instances of reservation ${list[0].lease.id} (DescribeInstances lists them)`);
    }
  }
  return byLease;
}
