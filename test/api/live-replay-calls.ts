// Random sequences of API calls (every lease kind, holds, cancels, owner actions, migrations,
// node changes, VMs that end by themselves, time passing), and everything the API shows after
// them: what a live service shows must be what the same service shows after a restart, which
// rebuilds its view by replaying its input log (issue 14, finding 11).

import assert from 'node:assert/strict';
import fc from 'fast-check';
import type { RestartWorld, User } from './restart-world.ts';
import { headRole, KEY_LINES, workerRole } from './cluster-body.ts';

type Owner = Exclude<User, 'admin'>;
type Shape = { cluster?: boolean; nodes: number; duration: number; startIn: number; slack: number; count: number; gap: number; acceptPartial: boolean; preemptible: boolean | null };

/**
 * One call; `pick` chooses among the leases the API shows in a state the call applies to (any, if
 * none is), and `node` among the nodes added so far, modulo their number.
 */
export type Call =
  | ({ op: 'create'; who: Owner; shared: boolean; kind: 'best-effort' | 'immediate' | 'exact' | 'urgent' | 'deadline' | 'periodic' } & Shape)
  | ({ op: 'hold'; who: Owner; shared: boolean; kind: 'exact' | 'deadline' | 'periodic'; ttl: number } & Shape)
  /** A quote changes no lease, but the service steps to its instant and logs that (a tick). */
  | ({ op: 'quote'; who: Owner; shared: boolean; kind: 'best-effort' | 'immediate' | 'exact' | 'urgent' | 'deadline' | 'periodic' } & Shape)
  | { op: 'commit' | 'cancel'; pick: number }
  | { op: 'act'; action: 'stop' | 'suspend' | 'resume'; pick: number }
  /** The owner renegotiates a live lease: its duration by `by` seconds (may shrink), its start, or its node count. */
  | { op: 'change'; pick: number; what: 'duration' | 'start' | 'nodes'; by: number }
  /** The owner of a lease renegotiating a broken promise takes the `offer`-th offer made to it (another back-end's too); another lease is asked to move to the cloud. */
  | { op: 'take-offer'; pick: number; offer: number }
  /** To as many nodes as the lease has, from the `offset`-th of the nodes it is not on. */
  | { op: 'migrate'; pick: number; offset: number }
  | { op: 'vm-ends'; pick: number; failed: boolean }
  | { op: 'add-node' | 'drain' | 'remove' | 'unavailable' | 'available'; node: number }
  | { op: 'wait'; seconds: number }
  /** An administrator puts new terms in force (its boot and shutdown times kept: the calls' periods assume them). */
  | { op: 'terms'; backfill: 'easy' | 'conservative' | 'none'; how: 'suspend' | 'requeue'; migrate: boolean; victims: 'youngest-first' | 'least-work-lost'; maxNodes: number | null; exactForLab: boolean; maxTtl: number; threshold: number };

const shape = {
  // One lease in four a cluster: a head and nodes-1 (at least one) workers.
  cluster: fc.nat(3).map((n) => n === 0),
  nodes: fc.integer({ min: 1, max: 3 }),
  duration: fc.integer({ min: 60, max: 7200 }),
  startIn: fc.integer({ min: 0, max: 7200 }),
  slack: fc.integer({ min: 0, max: 7200 }),
  count: fc.integer({ min: 1, max: 4 }),
  gap: fc.integer({ min: 0, max: 3600 }),
  acceptPartial: fc.boolean(),
  preemptible: fc.option(fc.boolean(), { nil: null }),
};
const owner = fc.constantFrom<Owner>('alice', 'bob', 'carol');
const pick = fc.nat(40);
// Best-effort leases are the ones owners suspend and resume, and the ones that migrate: more of them.
const createKind = fc.oneof(
  { weight: 3, arbitrary: fc.constant('best-effort' as const) },
  fc.constantFrom('immediate' as const, 'exact' as const, 'urgent' as const, 'deadline' as const, 'periodic' as const),
);

export const callArb: fc.Arbitrary<Call> = fc.oneof(
  { weight: 6, arbitrary: fc.record({ op: fc.constant('create' as const), who: owner, shared: fc.boolean(), kind: createKind, ...shape }) },
  { weight: 2, arbitrary: fc.record({ op: fc.constant('quote' as const), who: owner, shared: fc.boolean(), kind: createKind, ...shape }) },
  { weight: 2, arbitrary: fc.record({ op: fc.constant('hold' as const), who: owner, shared: fc.boolean(), kind: fc.constantFrom('exact' as const, 'deadline' as const, 'periodic' as const), ttl: fc.integer({ min: 1, max: 3600 }), ...shape }) },
  { weight: 2, arbitrary: fc.record({ op: fc.constantFrom('commit' as const, 'cancel' as const), pick }) },
  { weight: 2, arbitrary: fc.record({ op: fc.constant('act' as const), action: fc.constantFrom('stop' as const, 'suspend' as const, 'resume' as const), pick }) },
  { weight: 1, arbitrary: fc.record({ op: fc.constant('migrate' as const), pick, offset: fc.nat(10) }) },
  { weight: 2, arbitrary: fc.record({ op: fc.constant('change' as const), pick, what: fc.constantFrom('duration' as const, 'duration' as const, 'start' as const, 'nodes' as const), by: fc.integer({ min: -3600, max: 7200 }) }) },
  { weight: 1, arbitrary: fc.record({ op: fc.constant('take-offer' as const), pick, offer: fc.nat(3) }) },
  { weight: 1, arbitrary: fc.record({ op: fc.constant('vm-ends' as const), pick, failed: fc.boolean() }) },
  { weight: 2, arbitrary: fc.record({ op: fc.constantFrom('add-node' as const, 'drain' as const, 'remove' as const, 'unavailable' as const, 'available' as const), node: fc.nat(10) }) },
  {
    weight: 1,
    arbitrary: fc.record({
      op: fc.constant('terms' as const), backfill: fc.constantFrom('easy' as const, 'conservative' as const, 'none' as const), how: fc.constantFrom('suspend' as const, 'requeue' as const),
      migrate: fc.boolean(), victims: fc.constantFrom('youngest-first' as const, 'least-work-lost' as const), maxNodes: fc.option(fc.integer({ min: 1, max: 3 }), { nil: null }),
      exactForLab: fc.boolean(), maxTtl: fc.integer({ min: 60, max: 3600 }), threshold: fc.constantFrom(0, 1, 2),
    }),
  },
  { weight: 5, arbitrary: fc.record({ op: fc.constant('wait' as const), seconds: fc.oneof(fc.integer({ min: 1, max: 120 }), fc.integer({ min: 120, max: 7200 })) }) },
);

/** What a generated lease asks for, as the API takes it. */
function specOf(c: Extract<Call, { op: 'create' | 'hold' | 'quote' }>, now: number, bootAndShutdown: number): Record<string, unknown> {
  const spec: Record<string, unknown> = c.cluster
    ? { kind: c.kind, roles: [headRole(), workerRole({ count: Math.max(1, c.nodes - 1) })], duration: c.duration, userData: '#cloud-config\n', sshPublicKeys: [KEY_LINES[0]] }
    : { kind: c.kind, nodes: c.nodes, cpu: 1, memoryMiB: 1024, duration: c.duration };
  if (c.preemptible !== null) spec.preemptible = c.preemptible;
  if (c.shared && c.who !== 'bob') spec.group = 'lab';
  if (c.kind === 'exact' || c.kind === 'periodic') spec.start = now + c.startIn;
  if (c.kind === 'deadline') {
    if (c.startIn > 3600) spec.start = now + c.startIn - 3600;
    spec.deadline = now + c.duration + bootAndShutdown + c.slack;
  }
  if (c.kind === 'periodic') spec.recurrence = { period: c.duration + bootAndShutdown + c.gap, count: c.count, acceptPartial: c.acceptPartial };
  return spec;
}

/** Statuses of a lease that has not ended. */
const LIVE = ['pending', 'scheduled', 'held', 'deploying', 'running', 'suspending', 'suspended', 'resuming', 'ending'];

interface Shown { id: string; owner: Owner; kind: string; status: string; nodes: string[] }

/** Runs the calls against the world; any 5xx fails. Returns the ids of every lease the API named. */
export async function runCalls(w: RestartWorld, calls: readonly Call[], bootAndShutdown: number, times: { bootSeconds: number; shutdownSeconds: number } = { bootSeconds: 0, shutdownSeconds: 0 }): Promise<string[]> {
  const named: string[] = [];
  const nodes = ['n1', 'n2', 'n3', 'n4'];
  let added = 0;
  const node = (p: number) => nodes[p % nodes.length];
  const path = (id: string) => `/v1/leases/${encodeURIComponent(id)}`;
  const ok = <R extends { status: number; body: unknown }>(what: string, r: R): R => {
    assert.ok(r.status < 500, `${what} answered ${r.status}: ${JSON.stringify(r.body)}`);
    return r;
  };
  /** The `p`-th of the leases shown in one of `statuses` (and `kinds`), or of all leases if none is: refusals are exercised too. */
  const target = async (p: number, statuses: readonly string[], kinds?: readonly string[]): Promise<Shown | null> => {
    const shown = (await w.call('admin', 'GET', '/v1/leases?limit=1000')).body.leases as Shown[];
    const fit = shown.filter((l) => statuses.includes(l.status) && (!kinds || kinds.includes(l.kind)));
    const from = fit.length > 0 ? fit : shown;
    return from.length === 0 ? null : from[p % from.length];
  };
  for (const c of calls) {
    const now = w.clock.now();
    switch (c.op) {
      case 'quote':
        ok('quote', await w.call(c.who, 'POST', '/v1/leases/quote', specOf(c, now, bootAndShutdown)));
        break;
      case 'create':
      case 'hold': {
        const spec = specOf(c, now, bootAndShutdown);
        const r = c.op === 'create'
          ? ok('create', await w.call(c.who, 'POST', '/v1/leases', spec))
          : ok('hold', await w.call(c.who, 'POST', '/v1/leases/hold', { lease: spec, ttl: c.ttl }));
        if (r.status === 201) named.push(r.body.lease.id, ...(r.body.decision.occurrences ?? []), ...(r.body.decision.refusedOccurrences ?? []));
        break;
      }
      case 'commit': {
        const l = await target(c.pick, ['held']);
        if (l) ok('commit', await w.call(l.owner, 'POST', `${path(l.id)}/commit`));
        break;
      }
      case 'cancel': {
        const l = await target(c.pick, LIVE);
        if (l) ok('cancel', await w.call(l.owner, 'DELETE', path(l.id)));
        break;
      }
      case 'act': {
        const l = await target(c.pick, c.action === 'resume' ? ['suspended'] : ['running'], c.action === 'suspend' ? ['best-effort'] : undefined);
        if (l) ok(c.action, await w.call(l.owner, 'POST', `${path(l.id)}/${c.action}`));
        break;
      }
      case 'change': {
        const l = await target(c.pick, LIVE);
        if (!l) break;
        const shown = (await w.call('admin', 'GET', path(l.id))).body;
        const body = c.what === 'duration' ? { duration: Math.max(1, shown.spec.duration + c.by) }
          : c.what === 'start' ? { start: Math.max(0, (shown.spec.start ?? now) + c.by) } : { nodes: 1 + (Math.abs(c.by) % 3) };
        ok('change', await w.call(l.owner, 'POST', `${path(l.id)}/change`, body));
        break;
      }
      case 'take-offer': {
        const l = await target(c.pick, ['renegotiating']);
        if (!l) break;
        const offers = (await w.call('admin', 'GET', path(l.id))).body.reason?.offers ?? [];
        const body = l.status === 'renegotiating' && offers.length > 0 ? offers[c.offer % offers.length].change : { backend: 'cloud' };
        ok('take-offer', await w.call(l.owner, 'POST', `${path(l.id)}/change`, body));
        break;
      }
      case 'migrate': {
        const l = await target(c.pick, ['running'], ['best-effort', 'deadline']);
        if (!l) break;
        const elsewhere = nodes.filter((n) => !l.nodes.includes(n));
        const to = Array.from({ length: Math.max(1, l.nodes.length) }, (_, i) => elsewhere[(c.offset + i) % Math.max(1, elsewhere.length)] ?? node(c.offset));
        ok('migrate', await w.call('admin', 'POST', `${path(l.id)}/migrate`, { nodes: to }));
        break;
      }
      case 'vm-ends': {
        // The guest of the lease's first VM exits or crashes by itself, if it runs.
        const l = await target(c.pick, ['running']);
        const vm = l && (await w.driver.status()).find((v) => v.id === `${l.id}/0` && v.state === 'running');
        if (vm) await (c.failed ? w.driver.failVm(vm.id, 'the guest crashed') : w.driver.exitVm(vm.id));
        break;
      }
      case 'add-node': {
        const id = `m${++added}`;
        ok('add node', await w.call('admin', 'POST', '/v1/nodes', { id, cpu: 1 + (c.node % 2), memoryMiB: 1024 * (1 + (c.node % 2)), diskMiB: 10_000 }));
        nodes.push(id);
        break;
      }
      case 'drain':
        ok('drain', await w.call('admin', 'POST', `/v1/nodes/${node(c.node)}/drain`));
        break;
      case 'remove':
        ok('remove', await w.call('admin', 'DELETE', `/v1/nodes/${node(c.node)}`));
        break;
      case 'unavailable':
        // What the agent channel does when a node's agent stays away, and on its hello.
        await w.service.pool.markNodeUnavailable(node(c.node));
        break;
      case 'available':
        await w.service.pool.markNodeAvailable(node(c.node));
        break;
      case 'wait':
        w.clock.advance(c.seconds);
        break;
      case 'terms':
        ok('terms', await w.call('admin', 'PUT', '/v1/terms', {
          format: 'vws.terms/v1',
          kinds: {
            'best-effort': { maxNodes: c.maxNodes }, immediate: {}, exact: c.exactForLab ? { groups: ['lab'] } : {}, urgent: {}, deadline: {}, periodic: { maxNodes: c.maxNodes },
          },
          holds: { maxTtl: c.maxTtl },
          preemption: { how: c.how, migrate: c.migrate, victims: c.victims },
          scheduling: { backfill: c.backfill, suspendThresholdFactor: c.threshold, ...times },
        }));
        break;
    }
    await w.idle();
  }
  return named;
}

/** Everything the API shows of leases, workspaces, usage, nodes and the schedule (events aside: they are history, not state). */
export interface Snapshot {
  [part: string]: unknown;
  schedule: { status: number; body: string };
}

export async function snapshot(w: RestartWorld, named: readonly string[]): Promise<Snapshot> {
  const get = async (who: User, url: string) => {
    const r = await w.call(who, 'GET', url);
    return { status: r.status, body: r.body };
  };
  const list = await get('admin', '/v1/leases?limit=1000');
  const ids = [...new Set([...named, ...(list.body.leases as Array<{ id: string }>).map((l) => l.id)])].sort();
  const leases: Record<string, unknown> = {};
  for (const id of ids) leases[id] = await get('admin', `/v1/leases/${encodeURIComponent(id)}`);
  const usage: Record<string, unknown> = {};
  for (const who of ['admin', 'alice', 'bob', 'carol'] as const) usage[who] = await get(who, '/v1/usage');
  return {
    list, leases, usage,
    aliceList: await get('alice', '/v1/leases?limit=1000'),
    nodes: await get('admin', '/v1/nodes'),
    terms: await get('bob', '/v1/terms'),
    schedule: await get('admin', '/v1/schedule'),
  };
}

/** Where two snapshots differ, one line per differing value (deepEqual's own diff cuts them short). */
export function differences(live: unknown, replayed: unknown, at = ''): string[] {
  if (JSON.stringify(live) === JSON.stringify(replayed)) return [];
  if (live && replayed && typeof live === 'object' && typeof replayed === 'object' && Array.isArray(live) === Array.isArray(replayed)) {
    const a = live as Record<string, unknown>;
    const b = replayed as Record<string, unknown>;
    return [...new Set([...Object.keys(a), ...Object.keys(b)])].flatMap((k) => differences(a[k], b[k], `${at}.${k}`));
  }
  return [`${at}: live ${JSON.stringify(live)}, replayed ${JSON.stringify(replayed)}`];
}

/** The outcome the export must give a lease the API shows with this status: not yet ended is "pending" (shared/DESIGN.md). */
const OUTCOME_OF_STATUS: Record<string, string> = { done: 'completed', rejected: 'rejected', cancelled: 'cancelled', failed: 'cancelled' };

/** Lines of the live export whose outcome is not what the lease's status says. */
export function outcomeMismatches(s: Snapshot): string[] {
  const leases = s.leases as Record<string, { body: { status?: string } }>;
  return s.schedule.body.split('\n').filter((line) => line.trim() !== '').map((line) => JSON.parse(line) as { id?: string; outcome?: string; cluster?: string })
    .filter((l) => l.id !== undefined && !l.id.includes('/attempt-'))
    .flatMap((l) => {
      // A cluster may be exported as one line per role (LEASE/ROLE), each naming its lease.
      const status = leases[l.cluster ?? l.id!]?.body.status;
      const want = status === undefined ? 'a lease the API shows' : OUTCOME_OF_STATUS[status] ?? 'pending';
      return l.outcome === want ? [] : [`${l.id}: outcome ${l.outcome}, status ${status} (want ${want})`];
    });
}

/** Leases whose reason (rejected, failed, cancelled) has no message beyond its code: a person could not tell why. */
export function reasonsWithoutWords(s: Snapshot): string[] {
  const leases = s.leases as Record<string, { body: { reason?: { code: string; message: string } | null } }>;
  return Object.entries(leases).flatMap(([id, l]) => {
    const r = l.body.reason;
    return r && (r.message === r.code || r.message.trim() === '') ? [`${id}: ${JSON.stringify(r)}`] : [];
  });
}
