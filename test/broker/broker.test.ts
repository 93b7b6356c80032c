// The broker in the service, without HTTP: registrations refused with their reason and nothing
// kept; and random runs (exchanges, reports, fetches, done reports, time passing and restarts of
// the broker on its SQLite file) in which a restart never changes what the owner sees, a secret
// buys one session, and a context is only handed out with every role ready.

import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import fc from 'fast-check';
import '../core/support/setup.ts';
import { ContextBroker, type GuestSession } from '../../src/broker/broker.ts';
import { clusterRegistration, type Registration } from '../../src/broker/registration.ts';
import type { ClusterRole } from '../../src/core/types.ts';
import { ManualClock } from '../../src/control/clock.ts';
import { openSqliteStore } from '../../src/store/sqlite-store.ts';
import { headAndWorkers, hostKey, T0 } from './context-world.ts';

test('registrations that are not a cluster are refused with the reason, and nothing is kept', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'vws-broker-reg-'));
  const store = await openSqliteStore(join(dir, 'vws.db'));
  const broker = await ContextBroker.open(store, new ManualClock(T0));
  try {
    const base = headAndWorkers('L1');
    const cases: Array<[Registration, RegExp]> = [
      [{ ...base, members: base.members.slice(0, 2) }, /the roles count 3 members, but 2 are given/],
      [{ ...base, members: [...base.members.slice(0, 2), { ...base.members[1], id: 'x' }] }, /host name 'worker-0'.*used twice/],
      [{ ...base, members: [...base.members.slice(0, 2), { ...base.members[2], index: 5 }] }, /index 5, outside/],
      [{ ...base, members: [...base.members.slice(0, 2), { ...base.members[2], role: 'db' }] }, /role 'db', which the cluster does not have/],
      [{ ...base, roles: [base.roles[0], { ...base.roles[1], requires: ['head.smtp'] }] }, /requirement 'head.smtp' names no entry/],
      [{ ...base, roles: [{ ...base.roles[0], files: [{ path: '/etc/../shadow', content: '', mode: 0o600 }] }, base.roles[1]] }, /not an absolute file path without '.' or '..'/],
      [{ ...base, roles: [{ ...base.roles[0], files: [{ path: 'etc/x', content: '', mode: 0o600 }] }, base.roles[1]] }, /not an absolute file path/],
      [{ ...base, roles: [{ ...base.roles[0], files: [{ path: '/etc/x', content: '', mode: 0o10000 }] }, base.roles[1]] }, /mode 4096, not from 0 to 0o7777/],
      [{ ...base, roles: [base.roles[0], { ...base.roles[1], minCount: 3 }] }, /minCount must be from 1 to 2/],
      [{ ...base, ownerKeys: ['ssh-ed25519 A\nssh-rsa B'] }, /one line/],
      [{ ...base, timeouts: { report: 0 } }, /timeouts.report/],
      [{ ...base, members: base.members.map((m, i) => (i === 0 ? { ...m, id: '../x' } : m)) }, /'..\/x' is not a member id/],
    ];
    for (const [r, reason] of cases) {
      const out = await broker.register(r);
      assert.equal(out.ok, false);
      if (!out.ok) {
        assert.equal(out.code, 'invalid-request');
        assert.match(out.message, reason);
      }
    }
    assert.deepEqual(await store.listContexts(), []);
    assert.equal((await broker.register(base)).ok, true);
    const rows = await store.contextMembers(base.leaseId);
    const twice = await broker.register(base);
    assert.deepEqual(twice.ok ? twice.value : twice.code, [], 'registered again: left as it is, no secrets made');
    assert.deepEqual(await store.contextMembers(base.leaseId), rows);
  } finally {
    broker.close();
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a cluster lease\'s roles and placed VMs make a registration the broker takes: member ids ROLE-K, the service\'s addresses kept', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'vws-broker-lease-'));
  const store = await openSqliteStore(join(dir, 'vws.db'));
  const broker = await ContextBroker.open(store, new ManualClock(T0));
  try {
    const perNode = { cpu: 1, memoryMiB: 512, diskMiB: 0 };
    const roles: ClusterRole[] = [
      { name: 'head', count: 1, perNode, networks: ['public', 'private'], provides: ['nfs-export'], requires: [] },
      { name: 'worker', count: 2, perNode, networks: ['private'], provides: [], requires: ['head.nfs-export'], minCount: 1 },
    ];
    const placed = [{ role: 'head', index: 0, hostname: 'l1-head-0', ip: '10.5.0.2' }, { role: 'worker', index: 0, hostname: 'l1-worker-0', ip: null }, { role: 'worker', index: 1, hostname: 'l1-worker-1' }];
    const reg = clusterRegistration('l1', roles, placed, ['ssh-ed25519 AAAA owner'], { worker: [{ path: '/etc/fstab.d/nfs', content: 'x', mode: 0o644 }] });
    assert.deepEqual(reg.members.map((m) => [m.id, m.hostname, m.ip ?? null]), [['head-0', 'l1-head-0', '10.5.0.2'], ['worker-0', 'l1-worker-0', null], ['worker-1', 'l1-worker-1', null]]);
    assert.deepEqual(reg.roles.map((r) => [r.name, r.minCount ?? null, r.files.length]), [['head', null, 0], ['worker', 1, 1]]);
    const out = await broker.register(reg);
    assert.ok(out.ok, out.ok ? '' : out.message);
    assert.deepEqual(broker.view('l1')!.roles.map((r) => [r.name, r.minCount, r.members.map((m) => m.step)]), [['head', 1, ['exchange']], ['worker', 1, ['exchange', 'exchange']]]);
  } finally {
    broker.close();
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  }
});

test('issueSecret replaces a member\'s secret until it is exchanged: the old one buys nothing, the new one a session; after the exchange it is refused with why, also after a restart', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'vws-broker-issue-'));
  const store = await openSqliteStore(join(dir, 'vws.db'));
  const clock = new ManualClock(T0);
  let broker = await ContextBroker.open(store, clock);
  try {
    const reg = headAndWorkers('L2');
    const made = await broker.register(reg);
    assert.ok(made.ok);
    const first = made.value.find((s) => s.memberId === 'worker-0')!.secret;
    const fresh = await broker.issueSecret('L2', 'worker-0');
    assert.ok(fresh.ok, fresh.ok ? '' : fresh.message);
    assert.notEqual(fresh.value.secret, first);
    assert.equal((await broker.exchange('L2', 'worker-0', first)).ok, false, 'the replaced secret buys nothing');
    broker.close();
    broker = await ContextBroker.open(store, clock);
    const again = await broker.issueSecret('L2', 'worker-0');
    assert.ok(again.ok);
    assert.equal((await broker.exchange('L2', 'worker-0', fresh.value.secret)).ok, false, 'nor does the one before');
    assert.equal((await broker.exchange('L2', 'worker-0', again.value.secret)).ok, true);
    broker.close();
    broker = await ContextBroker.open(store, clock);
    const late = await broker.issueSecret('L2', 'worker-0');
    assert.equal(late.ok ? null : late.code, 'wrong-state');
    assert.match(late.ok ? '' : late.message, /exchanged its secret at .*a secret buys one session only/);
    const nobody = await broker.issueSecret('L2', 'worker-9');
    assert.equal(nobody.ok ? null : nobody.code, 'not-found');
    assert.equal((await broker.issueSecret('L3', 'head-0')).ok, false);
  } finally {
    broker.close();
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  }
});

type Op =
  | { k: 'exchange' | 'report' | 'context'; m: number }
  | { k: 'done'; m: number; ok: boolean }
  | { k: 'tick'; dt: number }
  | { k: 'restart' };

const opArb: fc.Arbitrary<Op> = fc.oneof(
  { arbitrary: fc.record({ k: fc.constantFrom('exchange' as const, 'report' as const, 'context' as const), m: fc.nat(4) }), weight: 6 },
  { arbitrary: fc.record({ k: fc.constant('done' as const), m: fc.nat(4), ok: fc.constantFrom(true, true, true, false) }), weight: 2 },
  { arbitrary: fc.record({ k: fc.constant('tick' as const), dt: fc.integer({ min: 1, max: 400 }) }), weight: 1 },
  { arbitrary: fc.constant({ k: 'restart' as const }), weight: 1 },
);

test('random runs with restarts: what the owner sees survives every restart, a secret buys one session, contexts wait for every role', async () => {
  await fc.assert(fc.asyncProperty(fc.integer({ min: 1, max: 4 }), fc.option(fc.integer({ min: 1, max: 4 })), fc.array(opArb, { maxLength: 60 }), async (workers, min, ops) => {
    const dir = mkdtempSync(join(tmpdir(), 'vws-broker-run-'));
    const path = join(dir, 'vws.db');
    let store = await openSqliteStore(path);
    const clock = new ManualClock(T0);
    const settled: string[] = [];
    const onSettled = (v: { status: string }) => { settled.push(v.status); };
    let broker = await ContextBroker.open(store, clock, { onSettled });
    try {
      const reg = headAndWorkers('L', workers);
      if (min !== null) reg.roles = [reg.roles[0], { ...reg.roles[1], minCount: Math.min(min, workers) }];
      const out = await broker.register(reg);
      assert.ok(out.ok);
      const secrets = out.value;
      const sessions = new Map<string, GuestSession>();
      const tokens = new Map<string, string>();
      for (const op of ops) {
        if (op.k === 'tick') {
          clock.advance(op.dt);
          await broker.exchange('L', 'nobody', 'x'); // behind the timers' work on the cluster's queue
          continue;
        }
        if (op.k === 'restart') {
          const before = broker.view('L');
          broker.close();
          await store.close();
          store = await openSqliteStore(path);
          broker = await ContextBroker.open(store, clock, { onSettled });
          assert.deepEqual(broker.view('L'), before, 'a restart changes nothing the owner sees');
          for (const [m, token] of tokens) assert.deepEqual(broker.sessionOf(`Bearer ${token}`), sessions.get(m), 'sessions survive');
          continue;
        }
        const { memberId, secret } = secrets[op.m % secrets.length];
        const s = sessions.get(memberId);
        if (op.k === 'exchange') {
          const r = await broker.exchange('L', memberId, secret);
          if (r.ok) {
            assert.ok(!s, 'a second session for one secret');
            tokens.set(memberId, r.value.session);
            sessions.set(memberId, broker.sessionOf(`Bearer ${r.value.session}`)!);
          } else assert.ok(s || r.code === 'wrong-state', r.message);
          continue;
        }
        if (!s) continue;
        if (op.k === 'report') {
          await broker.report(s, { ip: '10.0.0.1', hostname: memberId, hostKey: hostKey(memberId), entries: memberId === 'head-0' ? { 'nfs-export': '/srv' } : {} });
        } else if (op.k === 'done') {
          await broker.done(s, op.ok, op.ok ? undefined : 'broken');
        } else {
          const step = broker.view('L')!.roles.flatMap((r) => r.members).find((m) => m.id === memberId)!.step;
          const r = await broker.context(s);
          if (r.ok && r.value.ready && step === 'context') {
            for (const role of broker.view('L')!.roles) assert.equal(role.reported, role.count - role.failed, `role ${role.name} ready`);
          }
        }
      }
      // Told once when it settles (a restart does not tell again), and what it was told is what it is.
      const status = broker.view('L')!.status;
      assert.deepEqual(settled, status === 'pending' ? [] : [status]);
    } finally {
      broker.close();
      await store.close();
      rmSync(dir, { recursive: true, force: true });
    }
  }), { numRuns: 40 });
});
