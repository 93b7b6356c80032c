// What every Store must do for the image trust policy (src/store/trust-records.ts): part of the one
// contract suite (store-contract.ts), so SQLite and PostgreSQL keep signers, the policy and the
// statements on images the same way.

import assert from 'node:assert/strict';
import type { Store } from '../../src/store/store.ts';
import type { SignerRow, StatementRow } from '../../src/store/trust-records.ts';

const T = 1_700_000_000;

type It = (title: string, body: (store: Store, opened: { reopen(): Promise<Store> }) => Promise<void>) => void;

const signer = (name: string, keyId: string, o: Partial<SignerRow> = {}): SignerRow =>
  ({ name, keyId, publicKey: `-----BEGIN PUBLIC KEY-----\n${keyId}\n-----END PUBLIC KEY-----\n`, claims: null, addedBy: 'root', addedAt: T, ...o });
const envelope = (keyId: string, payload = 'e30=') => ({ payloadType: 'application/vnd.vws.image-statement+json', payload, keyId, signature: 'c2ln', publicKey: 'PEM' });
const statement = (image: string, keyId: string, o: Partial<StatementRow> = {}): StatementRow =>
  ({ image, keyId, envelope: envelope(keyId), attachedBy: 'ann', attachedAt: T, ...o });

export function trustContract(it: It): void {
  it('trusted signers are unique by name and by key, listed by name, survive a reopen and can be removed', async (store, opened) => {
    assert.deepEqual(await store.listSigners(), []);
    assert.equal(await store.addSigner(signer('vendor', '00aa00aa00aa00aa', { claims: ['patched', 'scanned'] })), true);
    assert.equal(await store.addSigner(signer('debian', '11bb11bb11bb11bb')), true);
    assert.equal(await store.addSigner(signer('vendor', '22cc22cc22cc22cc')), false, 'a name taken');
    assert.equal(await store.addSigner(signer('again', '11bb11bb11bb11bb')), false, 'a key trusted already');
    await store.close();
    const again = await opened.reopen();
    assert.deepEqual(await again.listSigners(), [signer('debian', '11bb11bb11bb11bb'), signer('vendor', '00aa00aa00aa00aa', { claims: ['patched', 'scanned'] })]);
    assert.equal(await again.deleteSigner('debian'), true);
    assert.equal(await again.deleteSigner('debian'), false);
    assert.deepEqual((await again.listSigners()).map((s) => s.name), ['vendor']);
  });

  it('the trust policy is null until set, then the last one put', async (store) => {
    assert.equal(await store.trustPolicy(), null);
    await store.putTrustPolicy({ policy: { require: 'signed', claims: [{ name: 'patched', maxAgeDays: 30 }] }, updatedBy: 'root', updatedAt: T });
    await store.putTrustPolicy({ policy: { require: 'signed-unless-admin', claims: [] }, updatedBy: 'boss', updatedAt: T + 5 });
    assert.deepEqual(await store.trustPolicy(), { policy: { require: 'signed-unless-admin', claims: [] }, updatedBy: 'boss', updatedAt: T + 5 });
  });

  it('statements attach to an image, one per key (a newer one replaces it), and go with the image', async (store) => {
    await store.putImage({ name: 'deb', sizeMiB: 1, sha256: 'ab'.repeat(32), owner: 'ann', group: null, visibility: 'private', uploaded: true, createdAt: T, boot: null, description: null });
    await store.putImage({ name: 'other', sizeMiB: 1, sha256: 'cd'.repeat(32), owner: 'ann', group: null, visibility: 'private', uploaded: true, createdAt: T, boot: null, description: null });
    await assert.rejects(store.putImageStatement(statement('missing', 'aa')), 'only on a registered image');
    await store.putImageStatement(statement('deb', 'ff'));
    await store.putImageStatement(statement('deb', 'aa'));
    await store.putImageStatement(statement('deb', 'ff', { envelope: envelope('ff', 'eyJhIjoxfQ=='), attachedAt: T + 9 }));
    assert.deepEqual(await store.imageStatements('deb'), [statement('deb', 'aa'), statement('deb', 'ff', { envelope: envelope('ff', 'eyJhIjoxfQ=='), attachedAt: T + 9 })]);
    assert.deepEqual(await store.imageStatements('other'), []);
  });
}
