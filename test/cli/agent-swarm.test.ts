// `vws serve --driver qemu` on SQLite with `vws agent-swarm --nodes 20` dialling it, both as child
// processes of the built CLI: a lease runs on swarm nodes over the real agent protocol; the
// server is killed -9 and started again on the same store and port; every agent is welcomed again
// with the VMs it kept, and the lease runs on, reconciled, on the same nodes, with no VM lost and
// none started twice. A lease created after the restart runs too.

import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { apiCall, BOOTSTRAP_TOKEN, freePort, type RealServer, startServer } from './client/real-server.ts';
import { bin, root } from '../support/vws-bin.ts';
import { waitFor } from '../support/wait.ts';

const NODES = 20;

interface Swarm {
  process: ChildProcess;
  output(): string;
  /** Resolves with the line saying every agent has been welcomed `round` times. */
  welcomed(round: number): Promise<string>;
}

function startSwarm(url: string): Swarm {
  const child = spawn(process.execPath, [bin, 'agent-swarm', '--server', url, '--token', BOOTSTRAP_TOKEN, '--nodes', String(NODES), '--cpu', '2', '--memory', '4096', '--name-prefix', 'sw-'], {
    cwd: root, stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout!.on('data', (c: Buffer) => (output += c.toString()));
  child.stderr!.on('data', (c: Buffer) => (output += c.toString()));
  return {
    process: child,
    output: () => output,
    welcomed: (round) => waitFor(`every agent of the swarm welcomed (round ${round})`, () => {
      if (child.exitCode !== null) throw new Error(`the swarm exited (${child.exitCode}):\n${output}`);
      return new RegExp(`^vws agent-swarm: all ${NODES} agents welcomed \\(round ${round},.*$`, 'm').exec(output)?.[0];
    }, { everyMs: 50, seen: () => output }),
  };
}

async function workspaces(server: RealServer, id: string): Promise<Array<{ node: string; status: string; index: number; updatedAt: number }>> {
  const answer = await apiCall(server, BOOTSTRAP_TOKEN, 'GET', `/v1/leases/${id}/workspaces`);
  assert.equal(answer.status, 200, JSON.stringify(answer.body));
  return answer.body.workspaces;
}

/** The lease's workspaces, once every one runs on the lease's own nodes (and was written at or after `since`). */
function running(server: RealServer, lease: { id: string; nodes: string[] }, since = 0): Promise<Array<{ node: string }>> {
  let seen: unknown = null;
  return waitFor(`the workspaces of ${lease.id} running`, async () => {
    const ws = await workspaces(server, lease.id);
    seen = ws;
    const ok = ws.length === lease.nodes.length && ws.every((w) => w.status === 'running' && w.node === lease.nodes[w.index] && w.updatedAt >= since);
    return ok ? ws : undefined;
  }, { everyMs: 50, seen: () => seen });
}

test('a lease runs on a swarm of 20 agents and stays running, reconciled, through a kill -9 of the server', { timeout: 300_000 }, async () => {
  const dir = mkdtempSync(join(tmpdir(), 'vws-swarm-'));
  const port = await freePort();
  let server = await startServer(join(dir, 'data'), port, ['--driver', 'qemu']);
  const swarm = startSwarm(server.url);
  try {
    assert.match(await swarm.welcomed(1), /: 0 VMs$/);
    const nodes = await apiCall(server, BOOTSTRAP_TOKEN, 'GET', '/v1/nodes');
    assert.equal(nodes.body.nodes.filter((n: { id: string }) => n.id.startsWith('sw-')).length, NODES, 'every agent joined the pool as a node');

    const created = await apiCall(server, BOOTSTRAP_TOKEN, 'POST', '/v1/leases', { kind: 'immediate', nodes: 3, cpu: 2, memoryMiB: 2048, duration: 3600 });
    assert.equal(created.status, 201, JSON.stringify(created.body));
    const lease = created.body.lease as { id: string; nodes: string[] };
    await running(server, lease);

    await server.kill();
    const restartedAt = Math.floor(Date.now() / 1000);
    server = await startServer(join(dir, 'data'), port, ['--driver', 'qemu']);
    // Each agent redials by itself and says hello with what it kept running.
    assert.match(await swarm.welcomed(2), /: 3 VMs \(3 running\)$/);
    await running(server, lease, restartedAt);
    const after = await apiCall(server, BOOTSTRAP_TOKEN, 'GET', `/v1/leases/${lease.id}`);
    assert.equal(after.body.status, 'running');
    assert.deepEqual(after.body.nodes, lease.nodes, 'the lease stays on its nodes');

    // The restarted service decides and runs new leases on the swarm as before.
    const second = await apiCall(server, BOOTSTRAP_TOKEN, 'POST', '/v1/leases', { kind: 'immediate', nodes: 2, cpu: 2, memoryMiB: 2048, duration: 3600 });
    assert.equal(second.status, 201, JSON.stringify(second.body));
    await running(server, second.body.lease);

    // The swarm's own count, once it stops: the 3 VMs of the first lease and the 2 of the second, none twice.
    swarm.process.kill('SIGTERM');
    await new Promise((resolve) => swarm.process.once('exit', resolve));
    assert.match(swarm.output(), /^vws agent-swarm: stopping with 5 VMs \(5 running\) on \d+ nodes$/m);
  } finally {
    if (swarm.process.exitCode === null) swarm.process.kill('SIGKILL');
    await server.kill();
    rmSync(dir, { recursive: true, force: true });
  }
});
