// `vws serve` stops on SIGTERM even while clients hold event streams open (a dashboard left open,
// a `vws lease watch`): the streams end, the server exits 0. It used to wait for every client to go.

import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { BOOTSTRAP_TOKEN, freePort, startServer } from '../cli/client/real-server.ts';

test('SIGTERM stops a server whose event streams are open, ending them', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'vws-stop-'));
  const server = await startServer(join(dir, 'data'), await freePort(), ['--nodes', '1']);
  try {
    const streams = await Promise.all([0, 1].map(() => fetch(`${server.url}/v1/events`, { headers: { authorization: `Bearer ${BOOTSTRAP_TOKEN}` } })));
    for (const s of streams) assert.equal(s.status, 200);
    const ended = streams.map(async (s) => {
      const reader = s.body!.getReader();
      while (!(await reader.read()).done);
      return 'ended';
    });
    const exited = new Promise<number | null>((r) => server.process.once('exit', (code) => r(code)));
    server.process.kill('SIGTERM');
    // A server that waited for its clients would never get here: the clients wait for it.
    const none = new Promise<string>((r) => setTimeout(() => r('still running after 60 s'), 60_000).unref());
    assert.equal(await Promise.race([exited, none]), 0, server.output());
    assert.deepEqual(await Promise.all(ended), ['ended', 'ended']);
  } finally {
    await server.kill();
    rmSync(dir, { recursive: true, force: true });
  }
});
