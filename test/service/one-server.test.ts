// A second `vws serve` on a store that already has a live server refuses to start, saying so
// (issue 14, finding 12: two servers on one store both took the same single node).
// The claim dies with its server: after kill -9 another server takes the store.

import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { freePort, root, startServer } from '../cli/client/real-server.ts';
import { bin } from '../support/vws-bin.ts';

async function secondRefusedThenTakesOver(dataDir: string, store: string[], says: RegExp): Promise<void> {
  const first = await startServer(dataDir, await freePort(), ['--nodes', '1', ...store]);
  try {
    const second = spawnSync(process.execPath, [bin, 'serve', '--data', dataDir, '--listen', `127.0.0.1:${await freePort()}`, '--nodes', '1', ...store], { cwd: root, encoding: 'utf8', timeout: 60_000 });
    assert.notEqual(second.status, 0, 'the second server started');
    assert.match(second.stderr, says);
    assert.match(second.stderr, /stop it first/);
  } finally {
    await first.kill();
  }
  // kill -9 left the first server's claim behind; it died with its process.
  const third = await startServer(dataDir, await freePort(), ['--nodes', '1', ...store]);
  await third.kill();
}

test('a second server on one SQLite store refuses to start; after kill -9 of the first, another starts', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'vws-one-'));
  try {
    await secondRefusedThenTakesOver(join(dir, 'data'), [], /another vws serve \(process \d+\) is running on .*vws\.db/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

// On PostgreSQL a second server follows the first instead: test/service/failover.test.ts.
