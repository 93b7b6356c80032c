// What every Store must do for the EC2 front-end (src/ec2): part of the one contract suite
// (store-contract.ts), so SQLite and PostgreSQL keep access keys, key pairs, tags and client
// tokens the same way.

import assert from 'node:assert/strict';
import type { Store } from '../../src/store/store.ts';
import type { KeyPairRow } from '../../src/store/ec2-records.ts';

const T = 1_700_000_000;

type It = (title: string, body: (store: Store, opened: { reopen(): Promise<Store> }) => Promise<void>) => void;

const keyPair = (owner: string, name: string, o: Partial<KeyPairRow> = {}): KeyPairRow =>
  ({ owner, name, keyPairId: `key-${name.length}0123456789abcdef`, keyType: 'ed25519', publicKey: `ssh-ed25519 AAAA ${name}`, fingerprint: 'SHA256:x', createdAt: T, ...o });

export function ec2Contract(it: It): void {
  it('EC2 access keys are kept per user, survive a reopen, go with their user and can be revoked', async (store, opened) => {
    await store.putUser({ id: 'ann', name: 'Ann', isAdmin: false, createdAt: T });
    await store.putUser({ id: 'bob', name: 'Bob', isAdmin: false, createdAt: T });
    await store.putEc2Credential({ accessKeyId: 'AKIAB', userId: 'ann', sealedSecret: 'sealed-b', createdAt: T + 1 });
    await store.putEc2Credential({ accessKeyId: 'AKIAA', userId: 'ann', sealedSecret: 'sealed-a', createdAt: T + 1 });
    await store.putEc2Credential({ accessKeyId: 'AKIAC', userId: 'bob', sealedSecret: 'sealed-c', createdAt: T });
    await assert.rejects(store.putEc2Credential({ accessKeyId: 'AKIAC', userId: 'ann', sealedSecret: 'other', createdAt: T }));
    await store.close();
    const again = await opened.reopen();
    assert.deepEqual(await again.ec2Credential('AKIAC'), { accessKeyId: 'AKIAC', userId: 'bob', sealedSecret: 'sealed-c', createdAt: T });
    assert.deepEqual((await again.ec2CredentialsOf('ann')).map((c) => c.accessKeyId), ['AKIAA', 'AKIAB']);
    assert.equal(await again.deleteEc2Credential('AKIAA'), true);
    assert.equal(await again.deleteEc2Credential('AKIAA'), false);
    assert.equal(await again.ec2Credential('AKIAA'), null);
    assert.deepEqual(await again.ec2CredentialsOf('nobody'), []);
  });

  it('key pairs are unique per owner and name; a duplicate writes nothing', async (store) => {
    assert.equal(await store.addKeyPair(keyPair('ann', 'laptop')), true);
    assert.equal(await store.addKeyPair(keyPair('ann', 'laptop', { publicKey: 'ssh-ed25519 BBBB other' })), false);
    assert.equal(await store.addKeyPair(keyPair('bob', 'laptop', { keyType: 'rsa' })), true);
    assert.equal(await store.addKeyPair(keyPair('ann', 'ci "é"')), true);
    assert.deepEqual(await store.keyPairsOf('ann'), [keyPair('ann', 'ci "é"'), keyPair('ann', 'laptop')]);
    assert.deepEqual(await store.keyPairsOf('bob'), [keyPair('bob', 'laptop', { keyType: 'rsa' })]);
    assert.equal(await store.deleteKeyPair('ann', 'laptop'), true);
    assert.equal(await store.deleteKeyPair('ann', 'laptop'), false);
    assert.deepEqual((await store.keyPairsOf('ann')).map((k) => k.name), ['ci "é"']);
  });

  it('tags are set, replaced and deleted per owner, resource and key', async (store) => {
    await store.putTag({ owner: 'ann', resourceId: 'i-2', key: 'Name', value: 'web' });
    await store.putTag({ owner: 'ann', resourceId: 'i-1', key: 'env', value: 'test' });
    await store.putTag({ owner: 'ann', resourceId: 'i-1', key: 'env', value: 'prod' });
    await store.putTag({ owner: 'bob', resourceId: 'i-1', key: 'env', value: 'bob' });
    assert.deepEqual(await store.tagsOf('ann'), [
      { owner: 'ann', resourceId: 'i-1', key: 'env', value: 'prod' },
      { owner: 'ann', resourceId: 'i-2', key: 'Name', value: 'web' },
    ]);
    assert.equal(await store.deleteTag('ann', 'i-1', 'env'), true);
    assert.equal(await store.deleteTag('ann', 'i-1', 'env'), false);
    assert.deepEqual((await store.tagsOf('ann')).map((t) => t.resourceId), ['i-2']);
    assert.deepEqual((await store.tagsOf('bob')).map((t) => t.value), ['bob']);
  });

  it('a client token keeps its first lease: a second keep returns the first', async (store) => {
    assert.equal(await store.clientToken('ann', 'tok'), null);
    const first = { owner: 'ann', token: 'tok', leaseId: 'l-1', paramsHash: 'h1' };
    assert.deepEqual(await store.keepClientToken(first), first);
    assert.deepEqual(await store.keepClientToken({ ...first, leaseId: 'l-2', paramsHash: 'h2' }), first);
    assert.deepEqual(await store.clientToken('ann', 'tok'), first);
    assert.equal(await store.clientToken('bob', 'tok'), null);
  });
}
