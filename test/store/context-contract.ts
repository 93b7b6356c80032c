// What every Store must do for the context broker (src/broker): part of the one contract suite
// (store-contract.ts), so SQLite and PostgreSQL keep clusters, members and the key the same way.

import assert from 'node:assert/strict';
import { DEFAULT_TIMEOUTS, FRESH, type ContextSpec } from '../../src/broker/types.ts';
import type { ContextMemberRow, Store } from '../../src/store/store.ts';

const T = 1_700_000_000;

const spec = (leaseId: string): ContextSpec => ({
  leaseId, ownerKeys: ['ssh-ed25519 AAAA ann@laptop'], registeredAt: T, timeouts: DEFAULT_TIMEOUTS,
  roles: [{ name: 'head', count: 1, provides: ['nfs-export'], requires: [], files: [{ path: '/etc/x', content: 'é\n"q"', mode: 0o600 }] },
    { name: 'worker', count: 2, minCount: 1, provides: [], requires: ['head.nfs-export'], files: [] }],
  members: [{ id: 'head-0', role: 'head', index: 0, hostname: 'head-0' }, { id: 'worker-0', role: 'worker', index: 0, hostname: 'worker-0' }],
});

const member = (leaseId: string, memberId: string, o: Partial<ContextMemberRow> = {}): ContextMemberRow =>
  ({ leaseId, memberId, secretHash: `s-${leaseId}-${memberId}`, sessionHash: null, progress: FRESH, updatedAt: T, ...o });

type It = (title: string, body: (store: Store, opened: { reopen(): Promise<Store> }) => Promise<void>) => void;

export function contextContract(it: It): void {
  it('contexts and their members round-trip, survive a reopen, and go with deleteContext', async (store, opened) => {
    assert.deepEqual(await store.listContexts(), []);
    await store.putContext({ leaseId: 'L2', spec: spec('L2'), createdAt: T }, [member('L2', 'head-0')]);
    await store.putContext({ leaseId: 'L1', spec: spec('L1'), createdAt: T }, [member('L1', 'worker-0'), member('L1', 'head-0')]);
    const reported = { ...FRESH, exchangedAt: T + 1, reportedAt: T + 2, provided: { ip: '10.0.0.2', hostname: 'head-0', hostKey: 'ssh-ed25519 AAAA', entries: { 'nfs-export': '/srv' } } };
    await store.putContextMember(member('L1', 'head-0', { sessionHash: 'sess', progress: reported, updatedAt: T + 2 }));
    await store.close();
    const again = await opened.reopen();
    assert.deepEqual(await again.listContexts(), [{ leaseId: 'L1', spec: spec('L1'), createdAt: T }, { leaseId: 'L2', spec: spec('L2'), createdAt: T }]);
    assert.deepEqual(await again.contextMembers('L1'), [member('L1', 'head-0', { sessionHash: 'sess', progress: reported, updatedAt: T + 2 }), member('L1', 'worker-0')]);
    assert.equal(await again.deleteContext('L1'), true);
    assert.equal(await again.deleteContext('L1'), false);
    assert.deepEqual(await again.contextMembers('L1'), []);
    assert.deepEqual((await again.listContexts()).map((c) => c.leaseId), ['L2']);
  });

  it('a session hash belongs to one member only, and a member of no context is refused', async (store) => {
    await store.putContext({ leaseId: 'L1', spec: spec('L1'), createdAt: T }, [member('L1', 'a', { sessionHash: 'same' })]);
    await assert.rejects(store.putContextMember(member('L1', 'b', { sessionHash: 'same' })));
    await assert.rejects(store.putContextMember(member('nope', 'a')));
    assert.deepEqual((await store.contextMembers('L1')).map((m) => m.memberId), ['a']);
  });

  it('the broker key is kept once: a second keepBrokerKey returns the first', async (store) => {
    assert.equal(await store.brokerKey(), null);
    const first = { publicKey: 'PUB1', privateKey: 'PRIV1', createdAt: T };
    assert.deepEqual(await store.keepBrokerKey(first), first);
    assert.deepEqual(await store.keepBrokerKey({ publicKey: 'PUB2', privateKey: 'PRIV2', createdAt: T + 1 }), first);
    assert.deepEqual(await store.brokerKey(), first);
  });
}
