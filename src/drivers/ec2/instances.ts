// EC2 instances as the driver reads them: the tags that tie one to this service, its lease and
// its workspace; its address; every instance a filter matches, over all pages; and terminating one.

import { DescribeInstancesCommand, type EC2Client, type Filter, type Instance, TerminateInstancesCommand } from '@aws-sdk/client-ec2';
import type { Ec2Clients } from './ec2-clients.ts';
import { refusalOf } from './ec2-errors.ts';

export const TAG_LEASE = 'vws:lease';
export const TAG_WORKSPACE = 'vws:workspace';
export const TAG_SERVICE = 'vws:service';
export const TAG_NODE = 'vws:node';

/** States of an instance that still runs or may run again (and costs, or holds its volume). */
export const LIVE = new Set(['pending', 'running', 'stopping', 'stopped']);

export function tagsOf(i: Instance): Record<string, string> {
  return Object.fromEntries((i.Tags ?? []).map((t) => [t.Key ?? '', t.Value ?? '']));
}

/** The address a user reaches the guest at: its public one where it has one. */
export function addressOf(i: Instance): string | null {
  return i.PublicIpAddress ?? i.PrivateIpAddress ?? null;
}

/** Every instance matching, over all pages. */
export async function describeAll(client: EC2Client, filters: Filter[], ids?: string[]): Promise<Instance[]> {
  const out: Instance[] = [];
  let token: string | undefined;
  do {
    const page = await client.send(new DescribeInstancesCommand({ ...(filters.length ? { Filters: filters } : {}), ...(ids ? { InstanceIds: ids } : {}), ...(token ? { NextToken: token } : {}) }));
    for (const r of page.Reservations ?? []) out.push(...(r.Instances ?? []));
    token = page.NextToken;
  } while (token);
  return out;
}

/**
 * Terminates the instance on the account; one EC2 no longer knows is already gone. A failure,
 * an account the configuration lost included, is refused for `vmId`.
 */
export async function terminate(clients: Pick<Ec2Clients, 'byIdentity'>, account: string, instanceId: string, vmId: string): Promise<void> {
  try {
    await clients.byIdentity(account).send(new TerminateInstancesCommand({ InstanceIds: [instanceId] }));
  } catch (e) {
    if ((e as Error).name !== 'InvalidInstanceID.NotFound') throw refusalOf(vmId, 'TerminateInstances', e);
  }
}
