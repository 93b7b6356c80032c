// An open event stream lasts as long as its rights (issue 14, finding 5): revoking its token or
// disabling its user ends it; leaving the group that shares a lease stops that lease's events.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { apiWorld, lease } from './api-world.ts';

/** An open SSE stream read as text: `until` waits for what a predicate says has arrived, or for the end. */
async function openStream(url: string, token: string) {
  const res = await fetch(`${url}/v1/events?after=now`, { headers: { authorization: `Bearer ${token}` } });
  assert.equal(res.status, 200);
  const reader = res.body!.getReader();
  const decoder = new TextDecoder();
  let text = '';
  let ended = false;
  // Woken by each chunk and by the end: a waiter looks again only when something came.
  let wake = (): void => undefined;
  void (async () => {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      text += decoder.decode(value);
      wake();
    }
    ended = true;
    wake();
  })();
  return {
    text: () => text,
    ended: () => ended,
    /** Resolves once `ready` holds; the test's own timeout bounds it. */
    async until(ready: () => boolean): Promise<void> {
      while (!ready()) {
        if (ended) assert.fail(`the stream ended before what was awaited came: ${text}`);
        await new Promise<void>((resolve) => (wake = resolve));
      }
    },
    close: () => reader.cancel(),
  };
}

test('revoking the token of an open stream ends it; so does disabling its user', { timeout: 60_000 }, async () => {
  const w = await apiWorld(2);
  const url = await w.app.listen({ port: 0, host: '127.0.0.1' });
  const alice = await openStream(url, w.tokens.alice);
  const bob = await openStream(url, w.tokens.bob);
  try {
    const made = await w.call(w.tokens.alice, 'POST', '/v1/leases', lease());
    await alice.until(() => alice.text().includes(made.body.lease.id));
    const tokens = (await w.call(w.tokens.admin, 'GET', '/v1/users/alice/tokens')).body.tokens as Array<{ id: string }>;
    for (const t of tokens) assert.equal((await w.call(w.tokens.admin, 'DELETE', `/v1/tokens/${t.id}`)).status, 200);
    await alice.until(() => alice.ended());
    assert.equal((await w.call(w.tokens.admin, 'POST', '/v1/users/bob/disable')).status, 200);
    await bob.until(() => bob.ended());
  } finally {
    await alice.close();
    await bob.close();
    await w.close();
  }
});

test('leaving the group stops the shared lease\'s events on an open stream; one\'s own still come', { timeout: 60_000 }, async () => {
  const w = await apiWorld(3);
  const url = await w.app.listen({ port: 0, host: '127.0.0.1' });
  const carol = await openStream(url, w.tokens.carol);
  try {
    const shared = await w.call(w.tokens.alice, 'POST', '/v1/leases', lease({ group: 'lab' }));
    await carol.until(() => carol.text().includes(shared.body.lease.id));
    assert.equal((await w.call(w.tokens.admin, 'DELETE', '/v1/groups/lab/members/carol')).status, 200);
    const after = await w.call(w.tokens.alice, 'POST', '/v1/leases', lease({ group: 'lab' }));
    const own = await w.call(w.tokens.carol, 'POST', '/v1/leases', lease());
    await carol.until(() => carol.text().includes(own.body.lease.id));
    assert.equal(carol.text().includes(after.body.lease.id), false, 'carol, out of the group, saw the lab\'s new lease');
    assert.equal(carol.ended(), false);
  } finally {
    await carol.close();
    await w.close();
  }
});
