// Instance ids a request names, checked against the caller's own instances: a malformed id is
// InvalidInstanceID.Malformed, and any id that is not the caller's, whether it is another user's
// or nobody's, is InvalidInstanceID.NotFound, so that no answer gives another user's away.

import type { Ec2Caller, Ec2Options } from './context.ts';
import { Ec2Error } from './errors.ts';
import { INSTANCE_ID } from './ids.ts';
import { type Instance, ownInstances } from './instance-view.ts';
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

/** The caller's instances of these ids, in the order given. */
export async function ownInstancesNamed(opts: Ec2Options, caller: Ec2Caller, ids: string[]): Promise<Instance[]> {
  const own = new Map((await ownInstances(opts, caller)).map((i) => [i.id, i]));
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
