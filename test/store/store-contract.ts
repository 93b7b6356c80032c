// What every Store must do, as one suite each implementation runs against itself
// (test/store/sqlite.test.ts, test/store/postgres.test.ts), so the two cannot drift apart.

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import '../core/support/setup.ts';
import type { LeaseKind } from '../../src/core/types.ts';
import { LATEST_VERSION } from '../../src/store/migrations.ts';
import { contextContract } from './context-contract.ts';
import { ec2Contract } from './ec2-contract.ts';
import { trustContract } from './trust-contract.ts';
import type {
  EventRow, GroupRow, ImageRow, LeaseFilter, LeaseRow, LeaseStatus, NodeRow, Store, TokenRow, UserRow, WorkspaceRow,
} from '../../src/store/store.ts';

/** A freshly migrated, empty store, a way to open it again on the same data, and its disposal. */
export interface OpenedStore {
  store: Store;
  /** Opens a second store on the same file or schema (the first should be closed by then). */
  reopen(): Promise<Store>;
  /** Closes every store it opened and deletes the data. */
  cleanup(): Promise<void>;
}

const T = 1_700_000_000;
const STATUSES: LeaseStatus[] = [
  'pending', 'scheduled', 'deploying', 'running', 'suspending', 'suspended', 'resuming', 'ending',
  'done', 'cancelled', 'rejected', 'failed', 'held',
];
const KINDS: LeaseKind[] = ['best-effort', 'immediate', 'exact', 'urgent', 'deadline', 'periodic'];

const user = (id: string, o: Partial<UserRow> = {}): UserRow => ({ id, name: `User ${id}`, isAdmin: false, createdAt: T, ...o });
const group = (name: string, o: Partial<GroupRow> = {}): GroupRow => ({ name, shareLeases: true, createdAt: T, ...o });
const token = (id: string, userId: string, o: Partial<TokenRow> = {}): TokenRow =>
  ({ id, userId, hash: `hash-${id}`, label: `laptop ${id}`, createdAt: T, expiresAt: null, ...o });
const node = (id: string, o: Partial<NodeRow> = {}): NodeRow =>
  ({ id, cpu: 0.5, memoryMiB: 2048, diskMiB: 10240, bandwidthMbps: null, status: 'active', addedAt: T, departsAt: null, pilot: null, ...o });
const image = (name: string, o: Partial<ImageRow> = {}): ImageRow =>
  ({ name, sizeMiB: 600, sha256: 'ab'.repeat(32), owner: 'ann', group: null, visibility: 'private', uploaded: false, createdAt: T, boot: null, description: null, ...o });
const workspace = (leaseId: string, index: number, o: Partial<WorkspaceRow> = {}): WorkspaceRow =>
  ({ leaseId, index, node: null, status: 'pending', mac: `52:54:00:00:00:0${index}`, ip: null, image: null, console: null, updatedAt: T, role: null, member: null, hostname: `${leaseId}-${index}`, ...o }) as WorkspaceRow;
const event = (o: Partial<Omit<EventRow, 'id'>> = {}): Omit<EventRow, 'id'> =>
  ({ time: T, type: 'lease.created', leaseId: null, owner: null, group: null, data: null, ...o });

/** A lease with every field filled in, nested JSON included; o overrides any of them (undefined: leaves it out). */
function lease(id: string, o: Partial<LeaseRow> = {}): LeaseRow {
  const kind = o.kind ?? 'periodic';
  const row: LeaseRow = {
    id, owner: 'ann', group: 'lab', kind, status: 'scheduled',
    request: {
      id, kind, arrival: T, requestedStart: T + 60, duration: 3600, nodes: 2, perNode: { cpu: 1, memoryMiB: 1024, diskMiB: 0 },
      image: { id: 'ubuntu 22.04.img', sizeMiB: 4096 }, preemptible: true, recurrence: { period: 86400, count: 3, acceptPartial: true },
    },
    reason: { code: 'policy', message: 'over quota: ask an admin' },
    plannedStart: T + 60, plannedEnd: T + 3660, actualStart: T + 61, actualEnd: T + 3700, nodes: ['n1', 'n2'],
    usage: { running: { coreSeconds: 7200, mibSeconds: 7_372_800 }, suspended: { coreSeconds: 0, mibSeconds: 12.5 } },
    createdAt: T, updatedAt: T + 1, backend: 'ec2', charge: { amount: null, unit: 'core-hour', dollars: 0.0116 }, ...o,
  };
  for (const [k, v] of Object.entries(o)) if (v === undefined) delete row[k as keyof LeaseRow];
  return row;
}

/** What a cluster's request adds: text that needs quoting in SQL and JSON (quotes, newlines, non-ASCII) on purpose. */
const CLUSTER = {
  nodes: 3, perNode: { cpu: 1, memoryMiB: 1024, diskMiB: 0 },
  roles: [
    { name: 'head', count: 1, perNode: { cpu: 1, memoryMiB: 512, diskMiB: 0 }, image: { id: 'head.img', sizeMiB: 600 }, networks: ['public', 'private'] as const, provides: ['nfs-export'], requires: [] },
    { name: 'worker', count: 2, minCount: 1, perNode: { cpu: 0.5, memoryMiB: 1024, diskMiB: 100 }, networks: ['private'] as const, provides: [], requires: ['head.ip', 'head.nfs-export'] },
  ],
  userData: "#cloud-config\nruncmd:\n  - echo 'it''s \"quoted\"' > /tmp/é",
  sshPublicKeys: ['ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIGm0c6fJ0ZrFv6Vb2xw2vJwq0Zr4l3sY4p3Zq6b8m9nK ann@laptop'],
};

const NULLS: Partial<LeaseRow> = {
  group: null, reason: null, plannedStart: null, plannedEnd: null, actualStart: null, actualEnd: null, nodes: [], usage: {},
  backend: undefined, charge: undefined,
};

/** Thrown to roll back a property run's writes so the next run starts from an empty store. */
class Discard extends Error {}

async function inDiscardedTransaction(store: Store, fn: () => Promise<void>): Promise<void> {
  await store.transaction(async () => { await fn(); throw new Discard(); })
    .catch((error: unknown) => { if (!(error instanceof Discard)) throw error; });
}

/** What listLeases(f) must return from the leases in model. */
function expectedLeases(model: Map<string, LeaseRow>, f: LeaseFilter): LeaseRow[] {
  const rows = [...model.values()]
    .filter((l) => f.status === undefined || l.status === f.status)
    .filter((l) => f.owner === undefined || l.owner === f.owner)
    .filter((l) => f.owners === undefined || f.owners.includes(l.owner))
    .filter((l) => f.kind === undefined || l.kind === f.kind)
    .filter((l) => f.after === undefined || l.id > f.after)
    .sort((a, b) => (a.id < b.id ? -1 : 1));
  return f.limit === undefined ? rows : rows.slice(0, f.limit);
}

function countByStatus(model: Map<string, LeaseRow>): Partial<Record<LeaseStatus, number>> {
  const counts: Partial<Record<LeaseStatus, number>> = {};
  for (const l of model.values()) counts[l.status] = (counts[l.status] ?? 0) + 1;
  return counts;
}

export function storeContract(name: string, open: () => Promise<OpenedStore>): void {
  /** A test on its own fresh store. */
  const it = (title: string, body: (store: Store, opened: OpenedStore) => Promise<void>): void => {
    test(title, async () => {
      const opened = await open();
      try { await body(opened.store, opened); } finally { await opened.cleanup(); }
    });
  };

  describe(`Store contract: ${name}`, () => {
    contextContract(it);
    ec2Contract(it);
    trustContract(it);
    it('migrate() again is harmless, and schemaVersion() is the latest migration', async (store) => {
      await store.putUser(user('ann'));
      await store.migrate();
      await Promise.all([store.migrate(), store.migrate()]);
      assert.equal(await store.schemaVersion(), LATEST_VERSION);
      assert.deepEqual(await store.listUsers(), [user('ann')]);
    });

    it('users and groups round-trip, a second put updates, lists are in key order', async (store) => {
      assert.equal(await store.getUser('ann'), null);
      await store.putUser(user('bob', { isAdmin: true }));
      await store.putUser(user('ann'));
      await store.putUser(user('ann', { name: 'Ann Lee', isAdmin: true, createdAt: T + 5 }));
      assert.deepEqual(await store.getUser('ann'), user('ann', { name: 'Ann Lee', isAdmin: true, createdAt: T + 5 }));
      assert.deepEqual((await store.listUsers()).map((u) => u.id), ['ann', 'bob']);
      await store.putUser(user('bob', { isAdmin: true, disabled: true }));
      assert.equal((await store.getUser('bob'))!.disabled, true);
      await store.putUser(user('bob', { isAdmin: true, disabled: false }));
      assert.deepEqual(await store.getUser('bob'), user('bob', { isAdmin: true }), 'enabled again, the row is as it was');
      assert.equal(await store.getGroup('lab'), null);
      await store.putGroup(group('lab'));
      await store.putGroup(group('lab', { shareLeases: false }));
      await store.putGroup(group('Lab'));
      assert.deepEqual(await store.getGroup('lab'), group('lab', { shareLeases: false }));
      assert.deepEqual(await store.listGroups(), [group('Lab'), group('lab', { shareLeases: false })]);
    });

    it('group membership: adding twice is one membership, removing ends it', async (store) => {
      for (const id of ['ann', 'bob']) await store.putUser(user(id));
      for (const g of ['lab', 'admins']) await store.putGroup(group(g));
      await store.addMember('lab', 'bob');
      await store.addMember('lab', 'ann');
      await store.addMember('lab', 'ann');
      await store.addMember('admins', 'ann');
      assert.deepEqual(await store.membersOf('lab'), ['ann', 'bob']);
      assert.deepEqual(await store.groupsOf('ann'), ['admins', 'lab']);
      await store.putUser(user('ann', { name: 'Ann Lee' })); // an update, which must not drop memberships
      assert.deepEqual(await store.groupsOf('ann'), ['admins', 'lab']);
      await store.removeMember('lab', 'ann');
      await store.removeMember('lab', 'ann');
      assert.deepEqual(await store.membersOf('lab'), ['bob']);
      assert.deepEqual(await store.groupsOf('ann'), ['admins']);
      assert.deepEqual(await store.groupsOf('nobody'), []);
      await assert.rejects(store.addMember('no-such-group', 'ann'));
      await assert.rejects(store.addMember('lab', 'no-such-user'));
    });

    it('tokens: found by hash, listed per user, deleted once', async (store) => {
      await store.putUser(user('ann'));
      await store.putToken(token('t1', 'ann'));
      await store.putToken(token('t2', 'ann', { expiresAt: T + 86400, createdAt: T + 1 }));
      await store.putToken(token('t1', 'ann', { label: 'renamed' }));
      assert.deepEqual(await store.tokenByHash('hash-t1'), token('t1', 'ann', { label: 'renamed' }));
      assert.deepEqual(await store.tokenByHash('hash-t2'), token('t2', 'ann', { expiresAt: T + 86400, createdAt: T + 1 }));
      assert.equal(await store.tokenByHash('no-such-hash'), null);
      assert.deepEqual((await store.tokensOf('ann')).map((t) => t.id), ['t1', 't2']);
      assert.equal(await store.deleteToken('t1'), true);
      assert.equal(await store.deleteToken('t1'), false);
      assert.equal(await store.tokenByHash('hash-t1'), null);
      assert.deepEqual(await store.tokensOf('nobody'), []);
      await assert.rejects(store.putToken(token('t3', 'no-such-user')));
    });

    it('inputs: seqs strictly increase and inputs(afterSeq) pages through them', async (store) => {
      const data = [{ lease: { id: 'a', nodes: [1, 2] } }, null, 'text', [true, { deep: [[]] }]];
      const seqs: number[] = [];
      for (const [i, d] of data.entries()) seqs.push(await store.appendInput({ time: T + i, type: `t${i}`, data: d }));
      seqs.slice(1).forEach((s, i) => assert.ok(s > seqs[i], `seq ${s} after ${seqs[i]}`));
      const all = await store.inputs();
      assert.deepEqual(all, data.map((d, i) => ({ seq: seqs[i], time: T + i, type: `t${i}`, data: d })));
      assert.deepEqual(await store.inputs(seqs[1]), all.slice(2));
      assert.deepEqual(await store.inputs(seqs[3]), []);
    });

    it('leases round-trip with every field, and with every nullable field null', async (store) => {
      assert.equal(await store.getLease('l1'), null);
      await store.putLease(lease('l1'));
      await store.putLease(lease('l2', NULLS));
      assert.deepEqual(await store.getLease('l1'), lease('l1'));
      assert.deepEqual(await store.getLease('l2'), lease('l2', NULLS));
      await store.putLease(lease('l1', { status: 'running', updatedAt: T + 9 }));
      assert.deepEqual(await store.listLeases(), [lease('l1', { status: 'running', updatedAt: T + 9 }), lease('l2', NULLS)]);
    });

    it('listLeases filters by status, owner, owners and kind, and pages with after + limit in id order', async (store) => {
      const rows = [
        lease('l03', { owner: 'ann', status: 'running', kind: 'exact' }), lease('l01', { owner: 'bob', status: 'pending' }),
        lease('L02', { owner: 'cy', status: 'running' }), lease('l10', { owner: 'ann', status: 'done', kind: 'exact' }),
      ];
      for (const l of rows) await store.putLease(l);
      const ids = async (f?: LeaseFilter) => (await store.listLeases(f)).map((l) => l.id);
      assert.deepEqual(await ids(), ['L02', 'l01', 'l03', 'l10']);
      assert.deepEqual(await ids({ status: 'running' }), ['L02', 'l03']);
      assert.deepEqual(await ids({ owner: 'ann' }), ['l03', 'l10']);
      assert.deepEqual(await ids({ owners: ['bob', 'cy'] }), ['L02', 'l01']);
      assert.deepEqual(await ids({ owners: [] }), []);
      assert.deepEqual(await ids({ kind: 'exact', status: 'done' }), ['l10']);
      assert.deepEqual(await ids({ limit: 2 }), ['L02', 'l01']);
      assert.deepEqual(await ids({ after: 'l01', limit: 2 }), ['l03', 'l10']);
      assert.deepEqual(await ids({ after: 'l10' }), []);
      assert.deepEqual(await ids({ limit: 0 }), []);
      await assert.rejects(store.listLeases({ limit: -1 }), RangeError);
      assert.deepEqual(await store.countLeasesByStatus(), { running: 2, pending: 1, done: 1 });
    });

    it('property: listLeases and countLeasesByStatus agree with an in-memory model', async (store) => {
      const id = fc.string({ unit: fc.constantFrom('a', 'B', 'c', '1', '_'), minLength: 1, maxLength: 3 });
      const owner = fc.constantFrom('ann', 'bob', 'cy');
      const status = fc.constantFrom(...STATUSES);
      const kind = fc.constantFrom(...KINDS);
      const put = fc.record({ id, owner, status, kind });
      const filter = fc.record(
        { status, owner, owners: fc.uniqueArray(owner, { maxLength: 3 }), kind, after: id, limit: fc.nat(6) },
        { requiredKeys: [] },
      );
      await fc.assert(fc.asyncProperty(fc.array(put, { maxLength: 25 }), fc.array(filter, { minLength: 1, maxLength: 4 }),
        (puts, filters) => inDiscardedTransaction(store, async () => {
          const model = new Map<string, LeaseRow>();
          for (const p of puts) {
            await store.putLease(lease(p.id, p));
            model.set(p.id, lease(p.id, p));
          }
          for (const f of filters) assert.deepEqual(await store.listLeases(f), expectedLeases(model, f), JSON.stringify(f));
          assert.deepEqual(await store.countLeasesByStatus(), countByStatus(model));
        })), { numRuns: 60 });
    });

    it('workspaces: one per (lease, index), listed per lease and per node', async (store) => {
      for (const id of ['l1', 'l2']) await store.putLease(lease(id));
      const placed = workspace('l1', 1, { node: 'n1', status: 'running', ip: '10.0.0.7', image: 'u.img', console: 'vnc://n1:5901' });
      await store.putWorkspace(workspace('l1', 1));
      await store.putWorkspace(workspace('l1', 0, { node: 'n2' }));
      await store.putWorkspace(placed);
      await store.putWorkspace(workspace('l2', 0, { node: 'n1' }));
      await store.putLease(lease('l1', { status: 'running' })); // an update, which must not drop its workspaces
      assert.deepEqual(await store.workspacesOf('l1'), [workspace('l1', 0, { node: 'n2' }), placed]);
      assert.deepEqual(await store.workspacesOn('n1'), [placed, workspace('l2', 0, { node: 'n1' })]);
      assert.deepEqual(await store.workspacesOn('n9'), []);
      assert.deepEqual(await store.workspacesOf('l9'), []);
      await assert.rejects(store.putWorkspace(workspace('no-such-lease', 0)));
    });

    it('a cluster lease keeps its roles, user-data and keys, and its workspaces their role, member and host name', async (store) => {
      const cluster = lease('c1', { kind: 'best-effort', request: { ...lease('c1').request, kind: 'best-effort', recurrence: undefined, ...CLUSTER } });
      delete (cluster.request as { recurrence?: unknown }).recurrence;
      await store.putLease(cluster);
      assert.deepEqual(await store.getLease('c1'), cluster);
      const head = workspace('c1', 0, { role: 'head', member: 0, hostname: 'c1-head-0' });
      const worker = workspace('c1', 2, { role: 'worker', member: 1, hostname: 'c1-worker-1', node: 'n1' });
      await store.putWorkspace(worker);
      await store.putWorkspace(head);
      assert.deepEqual(await store.workspacesOf('c1'), [head, worker]);
      assert.deepEqual(await store.workspacesOn('n1'), [worker]);
    });

    it('nodes and images round-trip, a second put updates, lists are in key order', async (store) => {
      assert.equal(await store.getNode('n1'), null);
      await store.putNode(node('n2'));
      await store.putNode(node('n1'));
      await store.putNode(node('n1', { status: 'draining', cpu: 16, memoryMiB: 65536.5, bandwidthMbps: 10000.5 }));
      assert.deepEqual(await store.getNode('n1'), node('n1', { status: 'draining', cpu: 16, memoryMiB: 65536.5, bandwidthMbps: 10000.5 }));
      assert.deepEqual((await store.listNodes()).map((n) => n.id), ['n1', 'n2']);
      // A pilot's node: when it leaves (past 2^31, as epoch seconds will be) and the batch job that brought it.
      const pilot = node('pilot-4711-c1', { departsAt: 2 ** 31 + 7, pilot: '4711' });
      await store.putNode(pilot);
      assert.deepEqual(await store.getNode('pilot-4711-c1'), pilot);
      assert.equal(await store.getImage('u.img'), null);
      await store.putImage(image('u.img'));
      await store.putImage(image('u.img', { uploaded: true, sizeMiB: 601 }));
      await store.putImage(image('a.img'));
      assert.deepEqual(await store.getImage('u.img'), image('u.img', { uploaded: true, sizeMiB: 601 }));
      assert.deepEqual(await store.listImages(), [image('a.img'), image('u.img', { uploaded: true, sizeMiB: 601 })]);
      const boot = { kernel: 'guest-kernel', initrd: 'guest-initrd', cmdline: 'console=ttyS0 quiet' };
      await store.putImage(image('b.img', { boot }));
      assert.deepEqual((await store.getImage('b.img'))?.boot, boot);
    });

    it('images keep their description whole (fractional cpu, lists in order, nested OS) and lose it when it is cleared', async (store) => {
      const description = {
        version: '12.7-20261201', os: { family: 'debian', release: '12' }, maintainer: 'Ann <ann@example.org>',
        summary: 'Debian 12 with cloud-init — NFS server ready', minimum: { cpu: 0.5, memoryMiB: 1024, diskMiB: 4096 },
        provides: ['ssh', 'nfs-server'], requires: ['cloud-init', 'nocloud'], format: 'qcow2' as const,
      };
      await store.putImage(image('d.img', { description }));
      assert.deepEqual(await store.getImage('d.img'), image('d.img', { description }));
      assert.deepEqual((await store.listImages()).find((i) => i.name === 'd.img')?.description, description);
      await store.putImage(image('d.img', { description: { format: 'raw' } }));
      assert.deepEqual((await store.getImage('d.img'))?.description, { format: 'raw' });
      await store.putImage(image('d.img', { description: null }));
      assert.deepEqual(await store.getImage('d.img'), image('d.img'));
    });

    it('images keep their group and visibility, and are found by their content hash', async (store) => {
      const other = 'cd'.repeat(32);
      await store.putImage(image('z.img', { group: 'lab', visibility: 'group' }));
      await store.putImage(image('p.img', { visibility: 'public', uploaded: true }));
      await store.putImage(image('o.img', { sha256: other }));
      assert.deepEqual(await store.getImage('z.img'), image('z.img', { group: 'lab', visibility: 'group' }));
      assert.deepEqual(await store.getImage('p.img'), image('p.img', { visibility: 'public', uploaded: true }));
      assert.deepEqual(await store.imagesWithSha256('ab'.repeat(32)), [image('p.img', { visibility: 'public', uploaded: true }), image('z.img', { group: 'lab', visibility: 'group' })]);
      assert.deepEqual(await store.imagesWithSha256(other), [image('o.img', { sha256: other })]);
      assert.deepEqual(await store.imagesWithSha256('ef'.repeat(32)), []);
      await store.putImage(image('z.img', { group: null, visibility: 'private' }));
      assert.deepEqual(await store.getImage('z.img'), image('z.img'));
      // Only the three visibilities are kept: a bug that writes another is caught by the store.
      await assert.rejects(store.putImage(image('bad.img', { visibility: 'secret' as ImageRow['visibility'] })));
      assert.equal(await store.getImage('bad.img'), null);
    });

    it('events: ids strictly increase and eventsAfter(afterId, limit) pages through them', async (store) => {
      const rows = [event({ leaseId: 'l1', owner: 'ann', group: 'lab', data: { from: 'pending', to: ['scheduled'] } }), event(), event({ type: 'node.drained' })];
      const ids: number[] = [];
      for (const e of rows) ids.push(await store.appendEvent(e));
      ids.slice(1).forEach((id, i) => assert.ok(id > ids[i], `event id ${id} after ${ids[i]}`));
      const all = rows.map((e, i) => ({ id: ids[i], ...e }));
      assert.deepEqual(await store.eventsAfter(0, 10), all);
      assert.deepEqual(await store.eventsAfter(0, 2), all.slice(0, 2));
      assert.deepEqual(await store.eventsAfter(ids[1], 2), all.slice(2));
      assert.deepEqual(await store.eventsAfter(ids[2], 2), []);
      assert.deepEqual(await store.eventsAfter(0, 0), []);
    });

    it('lastEventId is 0 on an empty store and the newest id after appends', async (store) => {
      assert.equal(await store.lastEventId(), 0);
      const first = await store.appendEvent(event());
      const second = await store.appendEvent(event({ type: 'node.drained' }));
      assert.equal(await store.lastEventId(), second);
      assert.ok(second > first);
    });

    it('property: any JSON value comes back as itself from inputs, events and idempotency keys', async (store) => {
      await fc.assert(fc.asyncProperty(fc.jsonValue(), (data) => inDiscardedTransaction(store, async () => {
        const expected = JSON.parse(JSON.stringify(data)); // JSON itself turns -0 into 0
        const seq = await store.appendInput({ time: T, type: 'x', data });
        assert.deepEqual((await store.inputs(seq - 1))[0].data, expected);
        const id = await store.appendEvent(event({ data }));
        assert.deepEqual((await store.eventsAfter(id - 1, 1))[0].data, expected);
        await store.rememberIdempotent('ann', 'k', 'l1', data);
        assert.deepEqual(await store.idempotentResponse('ann', 'k'), { leaseId: 'l1', response: expected });
      })), { numRuns: 60 });
    });

    it('idempotency keys are per owner, and the first response remembered stays', async (store) => {
      assert.equal(await store.idempotentResponse('ann', 'k1'), null);
      await store.rememberIdempotent('ann', 'k1', 'l1', { status: 201, body: { id: 'l1', nodes: ['n1'] } });
      await store.rememberIdempotent('ann', 'k1', 'l9', { status: 500 });
      await store.rememberIdempotent('bob', 'k1', 'l2', null);
      assert.deepEqual(await store.idempotentResponse('ann', 'k1'), { leaseId: 'l1', response: { status: 201, body: { id: 'l1', nodes: ['n1'] } } });
      assert.deepEqual(await store.idempotentResponse('bob', 'k1'), { leaseId: 'l2', response: null });
      assert.equal(await store.idempotentResponse('cy', 'k1'), null);
      assert.equal(await store.idempotentResponse('ann', 'k2'), null);
    });

    it('transaction commits every write and returns what fn returned', async (store) => {
      const result = await store.transaction(async () => {
        await store.putUser(user('ann'));
        await store.putLease(lease('l1'));
        return store.appendEvent(event({ leaseId: 'l1' }));
      });
      assert.deepEqual((await store.eventsAfter(0, 10)).map((e) => e.id), [result]);
      assert.deepEqual(await store.getUser('ann'), user('ann'));
      assert.deepEqual(await store.getLease('l1'), lease('l1'));
    });

    it('transaction rolls back every write when fn throws, and the error reaches the caller', async (store) => {
      await store.putUser(user('ann'));
      const before = await store.appendEvent(event());
      const failure = new Error('planner blew up');
      await assert.rejects(store.transaction(async () => {
        await store.putUser(user('ann', { name: 'changed' }));
        await store.putLease(lease('l1'));
        await store.appendEvent(event());
        await store.appendInput({ time: T, type: 'x', data: {} });
        throw failure;
      }), (error) => error === failure);
      assert.deepEqual(await store.getUser('ann'), user('ann'));
      assert.equal(await store.getLease('l1'), null);
      assert.deepEqual(await store.inputs(), []);
      assert.deepEqual((await store.eventsAfter(0, 10)).map((e) => e.id), [before]);
      assert.ok((await store.appendEvent(event())) > before);
    });

    it('a nested transaction is rejected without ending the outer one', async (store) => {
      let innerRan = false;
      await store.transaction(async () => {
        await store.putUser(user('ann'));
        await assert.rejects(store.transaction(async () => { innerRan = true; }), /must not nest/);
        await store.putUser(user('bob'));
      });
      assert.equal(innerRan, false);
      assert.deepEqual((await store.listUsers()).map((u) => u.id), ['ann', 'bob']);
    });

    it('calls from outside an open transaction are neither part of it nor see its writes', async (store) => {
      let entered!: () => void;
      let proceed!: () => void;
      const inside = new Promise<void>((resolve) => { entered = resolve; });
      const gate = new Promise<void>((resolve) => { proceed = resolve; });
      const tx = store.transaction(async () => {
        await store.putUser(user('inside'));
        entered();
        await gate;
        throw new Error('roll back');
      });
      await inside;
      const outsideWrite = store.putUser(user('outside'));
      const outsideRead = store.getUser('inside');
      proceed();
      await assert.rejects(tx, /roll back/);
      await outsideWrite;
      assert.equal(await outsideRead, null);
      assert.equal(await store.getUser('inside'), null);
      assert.deepEqual(await store.getUser('outside'), user('outside'));
    });

    it('concurrent transactions both commit', async (store) => {
      const write = (id: string) => store.transaction(async () => {
        await store.putUser(user(id));
        await new Promise((resolve) => setImmediate(resolve));
        await store.putToken(token(`${id}-t`, id));
      });
      await Promise.all([write('ann'), write('bob'), write('cy')]);
      assert.deepEqual((await store.listUsers()).map((u) => u.id), ['ann', 'bob', 'cy']);
      for (const id of ['ann', 'bob', 'cy']) assert.equal((await store.tokensOf(id)).length, 1);
    });

    it('everything survives close and reopen, and ids keep increasing', async (store, opened) => {
      await store.putUser(user('ann'));
      await store.putGroup(group('lab'));
      await store.addMember('lab', 'ann');
      await store.putToken(token('t1', 'ann'));
      await store.putLease(lease('l1'));
      await store.putWorkspace(workspace('l1', 0, { node: 'n1' }));
      await store.putNode(node('n1'));
      await store.putImage(image('u.img'));
      await store.rememberIdempotent('ann', 'k', 'l1', { ok: true });
      const seq = await store.appendInput({ time: T, type: 'submit', data: { id: 'l1' } });
      const eventId = await store.appendEvent(event({ leaseId: 'l1' }));
      await store.close();
      const again = await opened.reopen();
      assert.equal(await again.schemaVersion(), LATEST_VERSION);
      assert.deepEqual(await again.getUser('ann'), user('ann'));
      assert.deepEqual(await again.membersOf('lab'), ['ann']);
      assert.deepEqual(await again.tokenByHash('hash-t1'), token('t1', 'ann'));
      assert.deepEqual(await again.getLease('l1'), lease('l1'));
      assert.deepEqual(await again.workspacesOn('n1'), [workspace('l1', 0, { node: 'n1' })]);
      assert.deepEqual(await again.getNode('n1'), node('n1'));
      assert.deepEqual(await again.getImage('u.img'), image('u.img'));
      assert.deepEqual(await again.idempotentResponse('ann', 'k'), { leaseId: 'l1', response: { ok: true } });
      assert.deepEqual(await again.inputs(), [{ seq, time: T, type: 'submit', data: { id: 'l1' } }]);
      assert.deepEqual(await again.eventsAfter(0, 10), [{ id: eventId, ...event({ leaseId: 'l1' }) }]);
      assert.ok((await again.appendInput({ time: T, type: 'x', data: null })) > seq);
      assert.ok((await again.appendEvent(event())) > eventId);
    });
  });
}
