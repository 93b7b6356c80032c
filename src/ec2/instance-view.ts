// vws leases seen as EC2 instances: one instance per workspace (VM) of each of the caller's own
// leases, its state from the lease's and workspace's status, and the XML item EC2 clients read.

import type { LeaseRow, WorkspaceRow } from '../store/store.ts';
import type { KeyPairRow, TagRow } from '../store/ec2-records.ts';
import type { Ec2Caller, Ec2Options } from './context.ts';
import { amiIdOf, instanceIdOf, reservationIdOf } from './ids.ts';
import { typeOfShape } from './instance-types.ts';
import type { XmlValue } from './xml.ts';

/** How long an ended lease's instances stay visible (as `terminated`), as EC2 keeps them about an hour. */
export const TERMINATED_VISIBLE_SECONDS = 3600;

export interface InstanceState {
  code: number;
  name: 'pending' | 'running' | 'shutting-down' | 'terminated' | 'stopping' | 'stopped';
}

const STATE: Record<InstanceState['name'], number> = { pending: 0, running: 16, 'shutting-down': 32, terminated: 48, stopping: 64, stopped: 80 };
const state = (name: InstanceState['name']): InstanceState => ({ code: STATE[name], name });

export const STATE_NAMES = Object.keys(STATE) as InstanceState['name'][];

/** EC2's state of one VM of a lease: the lease's status first (it moves its VMs together), then the VM's own. */
export function stateOf(lease: LeaseRow, ws: WorkspaceRow | null): InstanceState {
  switch (lease.status) {
    case 'done': case 'cancelled': case 'rejected': case 'failed': return state('terminated');
    case 'ending': return state('shutting-down');
    case 'suspending': return state('stopping');
    case 'suspended': return state('stopped');
    // It holds no VM while its owner weighs the offers made to it.
    case 'renegotiating': return state('stopped');
    case 'pending': case 'scheduled': case 'held': case 'deploying': case 'resuming': return state('pending');
    case 'running':
      if (ws === null) return state('pending');
      if (ws.status === 'running') return state('running');
      if (ws.status === 'stopping') return state('shutting-down');
      if (ws.status === 'stopped' || ws.status === 'failed') return state('terminated');
      if (ws.status === 'suspending') return state('stopping');
      if (ws.status === 'suspended') return state('stopped');
      return state('pending');
  }
}

export interface Instance {
  id: string;
  lease: LeaseRow;
  index: number;
  ws: WorkspaceRow | null;
  state: InstanceState;
}

const ended = (l: LeaseRow): boolean => ['done', 'cancelled', 'rejected', 'failed'].includes(l.status);

/** Whether a lease's instances are shown: not a rejected request, nor one that ended over an hour ago. */
export const shown = (l: LeaseRow, now: number): boolean =>
  l.status !== 'rejected' && !(ended(l) && (l.actualEnd ?? l.updatedAt) < now - TERMINATED_VISIBLE_SECONDS);

/** The instances of one lease, one per VM, whether or not its workspaces exist yet. */
export async function instancesOfLease(opts: Ec2Options, lease: LeaseRow): Promise<Instance[]> {
  const rows = await opts.store.workspacesOf(lease.id);
  return Array.from({ length: lease.request.nodes }, (_, index) => {
    const ws = rows.find((w) => w.index === index) ?? null;
    return { id: instanceIdOf(lease.id, index), lease, index, ws, state: stateOf(lease, ws) };
  });
}

/** The caller's own leases whose instances are shown: all but those ended over an hour ago. */
export async function ownLeases(opts: Ec2Options, caller: Ec2Caller): Promise<LeaseRow[]> {
  const now = opts.now();
  return (await opts.store.listLeases({ owner: caller.user.id })).filter((l) => shown(l, now));
}

/** Every instance of the caller's own leases, in lease order, but those of leases ended over an hour ago. */
export async function ownInstances(opts: Ec2Options, caller: Ec2Caller): Promise<Instance[]> {
  const leases = await ownLeases(opts, caller);
  const out: Instance[] = [];
  for (const l of leases) out.push(...await instancesOfLease(opts, l));
  return out;
}

const iso = (seconds: number): string => new Date(seconds * 1000).toISOString().replace(/\.\d{3}Z$/, '.000Z');

/** The instance as DescribeInstances and RunInstances show it. */
export function instanceItem(opts: Ec2Options, i: Instance, tags: TagRow[], keyPairs: KeyPairRow[], clientToken?: string): XmlValue {
  const req = i.lease.request;
  const key = keyPairs.find((k) => req.sshPublicKeys?.includes(k.publicKey));
  const image = req.roles ? req.roles.find((r) => r.image)?.image : req.image;
  return {
    instanceId: i.id,
    instanceLifecycle: req.kind === 'best-effort' ? 'spot' : undefined,
    imageId: image ? amiIdOf(image.id) : undefined,
    instanceState: { code: i.state.code, name: i.state.name },
    privateDnsName: i.ws?.hostname ?? '',
    dnsName: '',
    reason: i.lease.reason ? `${i.lease.reason.code}: ${i.lease.reason.message}` : '',
    keyName: key?.name,
    amiLaunchIndex: i.index,
    productCodes: [],
    instanceType: typeOfShape(opts.instanceTypes, req.perNode.cpu, req.perNode.memoryMiB) ?? `vws.${req.perNode.cpu}cpu-${req.perNode.memoryMiB}mib`,
    launchTime: iso(i.lease.actualStart ?? i.lease.createdAt),
    placement: { availabilityZone: `${opts.region}a`, groupName: '', tenancy: 'default' },
    monitoring: { state: 'disabled' },
    privateIpAddress: i.ws?.ip ?? undefined,
    groupSet: [],
    architecture: 'x86_64',
    rootDeviceType: 'instance-store',
    blockDeviceMapping: [],
    virtualizationType: 'hvm',
    clientToken: clientToken ?? '',
    tagSet: tags.filter((t) => t.resourceId === i.id).map((t) => ({ key: t.key, value: t.value })),
    hypervisor: 'kvm',
  };
}

/** Instances grouped by lease, as EC2 groups them by reservation. */
export function reservations(opts: Ec2Options, caller: Ec2Caller, instances: Instance[], tags: TagRow[], keyPairs: KeyPairRow[]): XmlValue[] {
  const byLease = new Map<string, Instance[]>();
  for (const i of instances) byLease.set(i.lease.id, [...(byLease.get(i.lease.id) ?? []), i]);
  return [...byLease.entries()].map(([leaseId, list]) => ({
    reservationId: reservationIdOf(leaseId),
    ownerId: caller.user.id,
    groupSet: [],
    instancesSet: list.map((i) => instanceItem(opts, i, tags, keyPairs)),
  }));
}
