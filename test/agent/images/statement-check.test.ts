// The node agent's check of an image's signed statements before boot (src/agent/images/
// statement-check.ts): a statement verified with a trusted key, about the very file the agent
// holds, lets it boot; a statement over other bytes, by a key not given, or about another file
// does not, and says why; no statement where one is required does not either.

import assert from 'node:assert/strict';
import { createHash, generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { statementProblem } from '../../../src/agent/images/statement-check.ts';
import { signStatement } from '../../../src/drivers/image-statement.ts';
import type { ImageRef } from '../../../src/drivers/qemu/protocol.ts';

const dir = mkdtempSync(join(tmpdir(), 'vws-statement-check-'));
after(() => rmSync(dir, { recursive: true, force: true }));

const pair = () => {
  const { publicKey, privateKey } = generateKeyPairSync('ed25519');
  return { pub: publicKey.export({ type: 'spki', format: 'pem' }).toString(), priv: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString() };
};
const vendor = pair();
const other = pair();
const file = join(dir, 'disk');
const content = Buffer.from('the image the node holds');
writeFileSync(file, content);
const sha256 = createHash('sha256').update(content).digest('hex');
const statement = (o: { sha256?: string; sizeBytes?: number } = {}, key = vendor.priv) =>
  signStatement({ subject: { name: 'deb', sha256: o.sha256 ?? sha256, sizeBytes: o.sizeBytes ?? content.length }, claims: {}, issuedAt: '2026-12-01T00:00:00Z' }, key);
const ref = (trust?: ImageRef['trust']): ImageRef => ({ name: 'deb', sha256, sizeMiB: 1, ...(trust ? { trust } : {}) });

test('a statement by a given key about this very file lets the image boot', () => {
  assert.equal(statementProblem(ref(), file), null, 'no trust asked for: the hash alone');
  assert.equal(statementProblem(ref({ statements: [statement()], keys: [vendor.pub], required: true }), file), null);
  assert.equal(statementProblem(ref({ statements: [statement({}, other.priv), statement()], keys: [vendor.pub], required: true }), file), null, 'one that holds is enough');
  assert.equal(statementProblem(ref({ statements: [], keys: [], required: false }), file), null, 'an administrator\'s unsigned image under signed-unless-admin');
});

test('no statement where required, a key not given, other bytes or another file: the agent refuses, saying why', () => {
  assert.match(statementProblem(ref({ statements: [], keys: [], required: true }), file) ?? '', /carries no signed statement by a trusted signer/);
  assert.match(statementProblem(ref({ statements: [statement({}, other.priv)], keys: [vendor.pub], required: true }), file) ?? '', /key [0-9a-f]{16} is not among the trusted keys given/);
  const good = statement();
  const swapped = { ...good, signature: statement({ sizeBytes: 1 }).signature };
  assert.match(statementProblem(ref({ statements: [swapped], keys: [vendor.pub], required: true }), file) ?? '', /signature does not verify .* over other bytes/);
  assert.match(statementProblem(ref({ statements: [statement({ sha256: 'cd'.repeat(32) })], keys: [vendor.pub], required: true }), file) ?? '', /about other bytes/);
  assert.match(statementProblem(ref({ statements: [statement({ sizeBytes: 3 })], keys: [vendor.pub], required: true }), file) ?? '', /subject is 3 bytes, the image 24/);
});
