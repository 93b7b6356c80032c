// How a node agent finds the leader among several servers, on real sockets: a follower
// (startFollower, as `vws serve` runs it) names the leader, and the agent dials that one next;
// and how long it waits between dials while the service is away (redialDelay).

import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import Fastify from 'fastify';
import { acceptAgents } from '../../src/api/agent-channel.ts';
import { bootstrapAdmin } from '../../src/api/auth.ts';
import { startFollower } from '../../src/api/follower-server.ts';
import { NodeAgent, redialDelay } from '../../src/agent/node-agent.ts';
import { SimulatedHost } from '../../src/agent/simulated-host.ts';
import { AgentHub } from '../../src/drivers/qemu/agent-hub.ts';
import { openSqliteStore } from '../../src/store/sqlite-store.ts';
import { waitFor } from '../support/wait.ts';

const T = 1_800_000_000;

/** A port that takes connections and counts them, answering nothing: a server the agent must not dial. */
async function counted(): Promise<{ url: string; dials: () => number; close: () => Promise<void> }> {
  let dials = 0;
  const sockets = new Set<Socket>();
  const server = createServer((socket) => {
    dials++;
    sockets.add(socket);
    socket.destroy();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  return { url: `http://127.0.0.1:${port}`, dials: () => dials, close: () => new Promise((resolve) => server.close(() => resolve())) };
}

test('an agent told by a follower where the leader is dials that server next, not the next one in its list', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'vws-agent-redial-'));
  const store = await openSqliteStore(join(dir, 'vws.db'));
  const admin = (await bootstrapAdmin(store, T))!;
  const hellos: string[] = [];
  const hub = new AgentHub({ graceMs: 60_000, callTimeoutMs: 30_000 }, {
    hello: async (node) => {
      hellos.push(node.name);
      return { bridgeAddress: '10.77.0.254', prefix: 24 };
    },
    vm: () => undefined, timing: () => undefined, away: () => undefined,
  });
  const app = Fastify();
  acceptAgents(app, hub, store, () => T);
  await app.listen({ host: '127.0.0.1', port: 0 });
  const leaderUrl = `http://127.0.0.1:${(app.server.address() as { port: number }).port}`;
  const between = await counted();
  let followerDials = 0;
  const follower = await startFollower({
    version: 'test', name: 'b', store, now: () => T,
    leader: () => {
      followerDials++;
      return { epoch: 1, holder: 'c', address: leaderUrl, since: T, expired: false };
    },
  }, '127.0.0.1', 0);
  const logged: string[] = [];
  // The follower first, then a server that is not the leader, then the leader it names.
  const agent = new NodeAgent({
    server: [follower.address, between.url, leaderUrl], token: admin,
    host: new SimulatedHost({ name: 'n1', cpu: 4, memoryMiB: 8192, diskMiB: 100_000, transferAddress: '127.0.0.1', migrationAddress: '127.0.0.1' }),
    log: (l) => logged.push(l),
  });
  t.after(async () => {
    await agent.stop();
    hub.close();
    await app.close();
    await follower.close();
    await between.close();
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  });
  agent.start();
  // An agent that went back to the follower instead would never get there: given up on at its third dial.
  let welcomed = false;
  void agent.connected().then(() => (welcomed = true));
  await waitFor('the agent welcomed, or the follower dialled a third time', () => welcomed || followerDials >= 3);
  assert.deepEqual(hellos, ['n1']);
  assert.equal(followerDials, 1, `the follower was dialled ${followerDials} times; the agent logged:\n${logged.join('\n')}`);
  assert.equal(between.dials(), 0, 'the server between the follower and the leader in the list was dialled');
});

test('through a takeover an agent redials every 2 s at most; past 30 s away, every 10 s; a random part spreads agents apart', () => {
  const waits = Array.from({ length: 12 }, (_, attempt) => redialDelay(attempt, attempt * 1000, 0));
  assert.deepEqual(waits, [250, 500, 1000, 2000, 2000, 2000, 2000, 2000, 2000, 2000, 2000, 2000]);
  assert.equal(redialDelay(40, 29_999, 0), 2000);
  assert.equal(redialDelay(1, 30_000, 0), 10_000);
  // The random part takes up to half of the wait off, never adds to it.
  assert.equal(redialDelay(3, 1000, 0.5), 1500);
  assert.equal(redialDelay(3, 1000, 0.999), 1001);
  assert.equal(redialDelay(5, 60_000, 0.999), 5005);
});
