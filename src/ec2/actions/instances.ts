// DescribeInstances, TerminateInstances, Stop/Start/RebootInstances over the caller's leases.

import type { Action } from '../action.ts';
import type { Ec2Caller, Ec2Options } from '../context.ts';
import { Ec2Error, invalidValue } from '../errors.ts';
import { readInstanceIds, ownInstancesNamed, wholeLeases } from '../instance-ids.ts';
import { type Instance, instanceItem, instancesOfLease, ownInstances, reservations, STATE_NAMES } from '../instance-view.ts';
import { reservationIdOf } from '../ids.ts';
import type { Params } from '../query.ts';
import { type Filter, matchesAll } from '../filters.ts';

const INSTANCE_FILTERS = ['instance-state-name', 'instance-state-code', 'instance-id', 'image-id', 'instance-type', 'tag-key', 'reservation-id'];

function readFilters(p: Params, allowed: string[]): Filter[] {
  const filters = p.filters();
  for (const f of filters) {
    if (!allowed.includes(f.name) && !f.name.startsWith('tag:')) throw invalidValue('Filter.Name', f.name, `The filter '${f.name.slice(0, 100)}' is invalid; vws supports ${allowed.join(', ')} and tag:KEY.`);
    if (f.values.length === 0) throw invalidValue(`Filter ${f.name}`, '', 'A filter needs at least one value (Filter.N.Value.1).');
    if (f.name === 'instance-state-name') for (const v of f.values) if (!STATE_NAMES.includes(v as never) && !/[*?]/.test(v)) throw invalidValue('instance-state-name', v, `States are ${STATE_NAMES.join(', ')}.`);
  }
  return filters;
}

/** NextToken: where the next page starts, opaque to the client. */
const tokenOf = (id: string): string => Buffer.from(`after ${id}`).toString('base64url');
function afterOf(token: string): string {
  const text = Buffer.from(token, 'base64url').toString();
  if (!/^after i-[0-9a-f]{17}$/.test(text) || tokenOf(text.slice(6)) !== token) throw invalidValue('NextToken', token, 'Give a NextToken from a previous answer, as it was.');
  return text.slice(6);
}

export const describeInstances: Action = (p) => {
  const ids = readInstanceIds(p, false);
  const filters = readFilters(p, INSTANCE_FILTERS);
  const maxResults = p.integer('MaxResults', 5, 1000);
  const nextToken = p.optional('NextToken');
  if (maxResults !== undefined && ids.length > 0) throw new Ec2Error('InvalidParameterCombination', 'The parameter instancesSet cannot be used with the parameter maxResults');
  const after = nextToken === undefined ? undefined : afterOf(nextToken);
  return async (opts, caller) => {
    const instances = ids.length > 0 ? await ownInstancesNamed(opts, caller, ids) : await ownInstances(opts, caller);
    const tags = await opts.store.tagsOf(caller.user.id);
    let chosen = instances.filter((i) => matchesAll(filters, instanceFields(opts, i, tags)));
    if (after !== undefined) {
      const at = chosen.findIndex((i) => i.id === after);
      chosen = at < 0 ? [] : chosen.slice(at + 1);
    }
    let next: string | undefined;
    if (maxResults !== undefined && chosen.length > maxResults) {
      chosen = chosen.slice(0, maxResults);
      next = tokenOf(chosen[chosen.length - 1].id);
    }
    return { reservationSet: reservations(opts, caller, chosen, tags, await opts.store.keyPairsOf(caller.user.id)), nextToken: next };
  };
};

function instanceFields(opts: Ec2Options, i: Instance, tags: { resourceId: string; key: string; value: string }[]): Map<string, string[]> {
  const own = tags.filter((t) => t.resourceId === i.id);
  const item = instanceItem(opts, i, [], []) as { imageId?: string; instanceType: string };
  const fields = new Map<string, string[]>([
    ['image-id', item.imageId ? [item.imageId] : []],
    ['instance-type', [item.instanceType]],
    ['reservation-id', [reservationIdOf(i.lease.id)]],
    ['instance-state-name', [i.state.name]],
    ['instance-state-code', [String(i.state.code)]],
    ['instance-id', [i.id]],
    ['tag-key', own.map((t) => t.key)],
  ]);
  for (const t of own) fields.set(`tag:${t.key}`, [t.value]);
  return fields;
}

/** Each instance's state before and after, as Terminate/Stop/Start answer. */
async function stateChanges(opts: Ec2Options, before: Instance[]): Promise<unknown[]> {
  const out = [];
  for (const b of before) {
    const lease = (await opts.store.getLease(b.lease.id))!;
    const now = (await instancesOfLease(opts, lease))[b.index];
    out.push({ instanceId: b.id, currentState: { code: now.state.code, name: now.state.name }, previousState: { code: b.state.code, name: b.state.name } });
  }
  return out;
}

function refusedState(id: string, action: string, message: string): Ec2Error {
  return new Ec2Error('IncorrectInstanceState', `The instance '${id}' cannot be ${action}: ${message}`);
}

export const terminateInstances: Action = (p) => {
  const ids = readInstanceIds(p, true);
  return async (opts, caller) => {
    const leases = await wholeLeases(opts, caller, ids, 'end');
    for (const [leaseId, list] of leases) {
      if (list[0].state.name === 'terminated' || list[0].state.name === 'shutting-down') continue;
      const r = await opts.service.cancel(leaseId, caller.user.id);
      if (!r.ok && r.code !== 'wrong-state') throw refusedState(list[0].id, 'terminated', r.message);
    }
    return { instancesSet: await stateChanges(opts, [...leases.values()].flat()) as never };
  };
};

function suspendOrResume(action: 'suspend' | 'resume'): Action {
  return (p) => {
    const ids = readInstanceIds(p, true);
    // EC2's Force and Hibernate have no vws meaning beyond suspend: refused as unknown, not ignored.
    return async (opts, caller) => {
      const leases = await wholeLeases(opts, caller, ids, action === 'suspend' ? 'stop' : 'start');
      const already = action === 'suspend' ? ['stopped', 'stopping'] : ['running', 'pending'];
      const from = action === 'suspend' ? 'running' : 'stopped';
      // Checked for every lease first, so that a refused request changes nothing.
      for (const [, list] of leases) {
        const s = list[0].state.name;
        if (!already.includes(s) && s !== from) throw refusedState(list[0].id, action === 'suspend' ? 'stopped' : 'started', `it is ${s}`);
      }
      for (const [leaseId, list] of leases) {
        if (already.includes(list[0].state.name) && !(action === 'resume' && list[0].lease.status === 'suspended')) continue;
        const r = await opts.service.act(leaseId, action);
        if (!r.ok) throw refusedState(list[0].id, action === 'suspend' ? 'stopped' : 'started', r.message);
      }
      return { instancesSet: await stateChanges(opts, [...leases.values()].flat()) as never };
    };
  };
}

export const stopInstances = suspendOrResume('suspend');
export const startInstances = suspendOrResume('resume');

/** vws has no reboot of a VM: the request is checked (ids are the caller's, running) and answered true, and nothing else happens (docs/ec2.md). */
export const rebootInstances: Action = (p) => {
  const ids = readInstanceIds(p, true);
  return async (opts: Ec2Options, caller: Ec2Caller) => {
    const named = await ownInstancesNamed(opts, caller, ids);
    const notRunning = named.find((i) => i.state.name === 'terminated');
    if (notRunning) throw refusedState(notRunning.id, 'rebooted', 'it is terminated');
    return { return: true };
  };
};
