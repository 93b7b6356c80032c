// EC2 instances as the driver reads them: the tags that tie one to this service, its lease and
// its workspace; its address; and every instance a filter matches, over all pages.

import { DescribeInstancesCommand, type EC2Client, type Filter, type Instance } from '@aws-sdk/client-ec2';

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
