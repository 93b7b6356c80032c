// What `vws serve` keeps on disk is its own user's alone (issue 14, finding 10): the data
// directory 0700, the SQLite store and image content 0600, whatever the umask; and a bootstrap
// token given in the environment is never printed.

import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { BOOTSTRAP_TOKEN, freePort, startServer } from '../cli/client/real-server.ts';

const mode = (path: string): string => (statSync(path).mode & 0o777).toString(8);

test('the data directory, the store and image content are private; the bootstrap token from the environment is not printed', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'vws-private-'));
  const data = join(dir, 'data');
  // A permissive umask, as a shared machine may have: the modes must not depend on it.
  const umask = process.umask(0o022);
  const server = await startServer(data, await freePort(), ['--nodes', '1']);
  process.umask(umask);
  try {
    assert.doesNotMatch(server.output(), new RegExp(BOOTSTRAP_TOKEN), 'the token given in VWS_BOOTSTRAP_TOKEN was printed');
    assert.match(server.output(), /admin token: the one given in VWS_BOOTSTRAP_TOKEN/);
    const content = Buffer.from('private disk');
    const sha256 = createHash('sha256').update(content).digest('hex');
    const auth = { authorization: `Bearer ${BOOTSTRAP_TOKEN}` };
    const made = await fetch(`${server.url}/v1/images`, { method: 'POST', headers: { ...auth, 'content-type': 'application/json' }, body: JSON.stringify({ name: 'p', sizeMiB: 1, sha256 }) });
    assert.equal(made.status, 201);
    const put = await fetch(`${server.url}/v1/images/p/content`, { method: 'PUT', headers: { ...auth, 'content-type': 'application/octet-stream' }, body: content });
    assert.equal(put.status, 200, await put.text());
    assert.equal(mode(data), '700');
    assert.equal(mode(join(data, 'vws.db')), '600');
    assert.equal(mode(join(data, 'blobs')), '700');
    assert.deepEqual(readdirSync(join(data, 'blobs')), [sha256]);
    assert.equal(mode(join(data, 'blobs', sha256)), '600');
    for (const f of readdirSync(data).filter((f) => f.startsWith('vws.db-'))) assert.equal(mode(join(data, f)), '600', f);
  } finally {
    await server.kill();
    rmSync(dir, { recursive: true, force: true });
  }
});
