// End to end with real VMs under QEMU (TCG here): `vws serve --driver qemu`, two `vws agent`
// processes whose VMs, bridges and DHCP servers live in two network namespaces joined by a veth,
// and the `vws` client. A best-effort lease with a scratch disk boots and answers over TCP; its
// agent is killed and restarted and adopts it; a reservation that needs both nodes suspends it to a file in time and
// boots on schedule; when the reservation ends the lease resumes on the other node (a cold
// migration: its state file crosses between agents) with its counter going on; an administrator
// moves it back live; cancelling leaves no QEMU process, tap or overlay behind.
import assert from 'node:assert/strict';
import { chmodSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { buildTestGuest } from '../../guest/build.ts';
import { BOOTSTRAP_TOKEN, freePort, type RealServer, startServer, vws } from '../cli/client/real-server.ts';
import { httpGetIn, killAllIn, twoNodeFabric, type TwoNodeFabric } from '../support/netns.ts';
import { type AgentProcess, api, type LeaseView, qemuPids, startAgent, taps, vmLeftovers } from './qemu-pool.ts';

const MINUTE = 60_000;
/** Deadlines below only guard against a hang; nothing asserts how fast a step was. */
const BOOT_DEADLINE = 3 * MINUTE;
/** What a reservation's guest counts while the suspended lease is away (see step 3). */
const WITNESS_TICKS = 15;

let dir: string;
let fabric: TwoNodeFabric;
let server: RealServer;
let config: string;
let agents: Record<'node-a' | 'node-b', AgentProcess>;
let agentData: Record<'node-a' | 'node-b', string>;
let call: ReturnType<typeof api>;
let netnsOf: Record<string, string>;

const cli = (...args: string[]): Record<string, unknown> => {
  const r = vws(config, ...args, '--json');
  assert.equal(r.status, 0, `vws ${args.join(' ')} failed: ${r.stderr}`);
  return JSON.parse(r.stdout) as Record<string, unknown>;
};

const lease = (id: string): Promise<LeaseView> => call.get<LeaseView>(`/v1/leases/${encodeURIComponent(id)}`);

async function leaseUntil(id: string, what: string, ok: (l: LeaseView) => boolean, deadlineMs = BOOT_DEADLINE): Promise<LeaseView> {
  const end = Date.now() + deadlineMs;
  let last: LeaseView | undefined;
  for (;;) {
    last = await lease(id);
    if (ok(last)) return last;
    if (Date.now() > end) throw new Error(`lease ${id} never ${what}; last seen ${JSON.stringify(last)}\nservice:\n${server.output()}\nagent a:\n${agents['node-a'].output()}\nagent b:\n${agents['node-b'].output()}`);
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
}

const runningWithIp = (l: LeaseView): boolean => l.status === 'running' && (l.workspaces ?? []).length > 0 && l.workspaces!.every((w) => w.status === 'running' && w.ip !== null);

/** GET http://IP/PATH from the node the guest runs on. */
const httpFrom = (node: string, ip: string, path: string): Promise<string> => httpGetIn(netnsOf[node], ip, path);

const counterOn = async (node: string, ip: string): Promise<number> => Number((await httpFrom(node, ip, '/counter')).trim());

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'vws-e2e-'));
  // dnsmasq runs as nobody and must reach its hosts file under the agents' data directories.
  chmodSync(dir, 0o755);
  fabric = twoNodeFabric('e2e');
  netnsOf = { 'node-a': fabric.namespaces[0], 'node-b': fabric.namespaces[1] };
  server = await startServer(join(dir, 'service'), await freePort(), ['--driver', 'qemu', '--vm-network', '10.77.0.0/24']);
  config = join(dir, 'client', 'config.json');
  assert.equal(vws(config, 'login', '--server', `${server.url}/v1`, '--token', BOOTSTRAP_TOKEN).status, 0);
  call = api(server.url, BOOTSTRAP_TOKEN);
  agentData = { 'node-a': join(dir, 'agent-a'), 'node-b': join(dir, 'agent-b') };
  const start = (name: 'node-a' | 'node-b', i: number): AgentProcess => {
    mkdirSync(agentData[name], { recursive: true, mode: 0o755 });
    return startAgent({ name, server: server.url, token: BOOTSTRAP_TOKEN, data: agentData[name], netns: fabric.namespaces[i], migrationAddress: fabric.addresses[i] });
  };
  const nodeNames = async (): Promise<string[]> => (await call.get<{ nodes: Array<{ id: string }> }>('/v1/nodes')).nodes.map((n) => n.id);
  // node-a joins first, so that it is the pool's first node.
  agents = { 'node-a': start('node-a', 0) } as typeof agents;
  await pollUntil(async () => (await nodeNames()).includes('node-a'), 'node-a joined');
  agents['node-b'] = start('node-b', 1);
  await pollUntil(async () => (await nodeNames()).includes('node-b'), 'node-b joined');
});

async function pollUntil(check: () => Promise<boolean>, what: string, deadlineMs = MINUTE, seen?: () => unknown): Promise<void> {
  const end = Date.now() + deadlineMs;
  while (!(await check())) {
    if (Date.now() > end) throw new Error(`${what}: not within ${deadlineMs} ms${seen ? `; still there: ${JSON.stringify(seen())}` : ''}`);
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

after(async () => {
  for (const a of Object.values(agents ?? {})) await a.kill();
  await server?.kill();
  // Deleting a namespace does not end its processes: the agents' dnsmasq (and whatever a failed
  // run left running) must be killed first.
  for (const ns of fabric?.namespaces ?? []) await killAllIn(ns);
  fabric?.destroy();
  rmSync(dir, { recursive: true, force: true });
});

test('a best-effort VM boots, survives its agent, is suspended for a reservation, resumes on the other node, moves back live, and leaves nothing behind', { timeout: 15 * MINUTE }, async () => {
  const guest = buildTestGuest();
  cli('image', 'add', 'guest-kernel', '--file', guest.kernel);
  cli('image', 'add', 'guest-initrd', '--file', guest.initrd);
  cli('image', 'add', 'guest', '--file', guest.disk, '--kernel', 'guest-kernel', '--initrd', 'guest-initrd', '--cmdline', guest.cmdline);

  // 1. A best-effort lease of one VM boots, takes its address by DHCP and answers over TCP.
  const be = (cli('lease', 'create', '--kind', 'best-effort', '--nodes', '1', '--cpu', '1', '--memory', '128', '--disk', '64', '--duration', '2h', '--image', 'guest') as { lease: LeaseView }).lease;
  const running = await leaseUntil(be.id, 'ran with an address', runningWithIp);
  const ws = running.workspaces![0];
  assert.equal(ws.node, 'node-a', 'the first node of the pool');
  assert.equal((await httpFrom('node-a', ws.ip!, '/ip')).trim(), ws.ip, 'a TCP connection to the guest from its node');
  assert.equal((await httpFrom('node-a', ws.ip!, '/scratch-mib')).trim(), '64', 'the guest sees a blank scratch disk of the size asked for');
  const [qemuBefore] = qemuPids(netnsOf['node-a']);

  // 2. A killed agent leaves the VM running; the restarted one adopts it.
  const beforeKill = await counterOn('node-a', ws.ip!);
  await agents['node-a'].kill();
  agents['node-a'] = startAgent({ name: 'node-a', server: server.url, token: BOOTSTRAP_TOKEN, data: agentData['node-a'], netns: fabric.namespaces[0], migrationAddress: fabric.addresses[0] });
  assert.deepEqual(qemuPids(netnsOf['node-a']), [qemuBefore], 'the same QEMU process runs on');
  await pollUntil(async () => (await counterOn('node-a', ws.ip!)) > beforeKill, 'the guest counts on after its agent was killed');
  assert.equal((await lease(be.id)).status, 'running');

  // 3. A reservation needing both nodes: the lease is suspended to a file before it begins, and
  // the reservation's VMs boot when it begins. A second reservation right after it takes node-a.
  // It lasts long enough for its guests to serve as witnesses of the pause (below).
  const ar = (cli('lease', 'create', '--kind', 'exact', '--start', '+40s', '--duration', '40s', '--nodes', '2', '--cpu', '1', '--memory', '128', '--image', 'guest') as { lease: LeaseView }).lease;
  // The second one asks for the reservation's end and takes the earliest start offered: its VM
  // boots before it begins, and node-a is busy with the first reservation until then.
  const secondSpec = ['--kind', 'exact', '--duration', '20s', '--nodes', '1', '--cpu', '1', '--memory', '128', '--image', 'guest'];
  const offer = cli('lease', 'quote', ...secondSpec, '--start', String(ar.plannedEnd)) as { ok: boolean; earliestStart?: number };
  const secondStart = offer.ok ? ar.plannedEnd! : offer.earliestStart!;
  const next = (cli('lease', 'create', ...secondSpec, '--start', String(secondStart)) as { lease: LeaseView }).lease;
  assert.deepEqual(next.nodes, ['node-a']);
  let counterAtSuspend = 0;
  const suspended = await leaseUntil(be.id, 'was suspended', (l) => {
    if (l.status === 'running') void counterOn('node-a', ws.ip!).then((c) => (counterAtSuspend = Math.max(counterAtSuspend, c)), () => undefined);
    // The workspace is what the VM did; the lease's status follows the plan's instants.
    return l.workspaces![0].status === 'suspended';
  });
  // When the service heard the VM was suspended, by its own clock, not when this poll saw it.
  const suspendedAt = suspended.workspaces![0].updatedAt;
  assert.ok(suspendedAt <= ar.plannedStart!, `suspended at ${suspendedAt}, before the reservation's start ${ar.plannedStart}`);
  assert.equal(suspended.workspaces![0].ip, null);
  // Its own QEMU, by pid: the reservation's VM may already be booting on node-a by now.
  assert.ok(!qemuPids(netnsOf['node-a']).includes(qemuBefore), `its QEMU process ${qemuBefore} is gone`);
  const arRunning = await leaseUntil(ar.id, 'ran', runningWithIp);
  assert.deepEqual([...arRunning.nodes].sort(), ['node-a', 'node-b']);
  for (const w of arRunning.workspaces!) assert.equal((await httpFrom(w.node!, w.ip!, '/ip')).trim(), w.ip);
  // A guest of the reservation counts while the lease is suspended: WITNESS_TICKS of its count
  // fall inside the pause, which the lease's own counter must not have gone through.
  const witness = arRunning.workspaces![0];
  const witnessFrom = await counterOn(witness.node!, witness.ip!);
  let witnessTo = witnessFrom;
  await pollUntil(async () => (witnessTo = await counterOn(witness.node!, witness.ip!)) >= witnessFrom + WITNESS_TICKS, 'the reservation\'s guest counted on', MINUTE);

  // 4. When it ends the lease resumes on node-b, the node left free: its state crossed over.
  const resumed = await leaseUntil(be.id, 'resumed', runningWithIp, 3 * MINUTE);
  assert.equal(resumed.workspaces![0].node, 'node-b', 'resumed on the other node');
  assert.equal(resumed.workspaces![0].ip, ws.ip, 'with its address');
  assert.ok(vmLeftovers(agentData['node-b']).some((f) => f.endsWith('scratch.qcow2')), 'its scratch disk came along');
  const afterResume = await counterOn('node-b', ws.ip!);
  assert.ok(counterAtSuspend >= 5, `the counter had counted before the suspension (${counterAtSuspend})`);
  // A few ticks pass between the last reading and the suspension, and between the resumption and
  // this reading; a guest that ran through the pause would have counted all the witness's and more.
  assert.ok(afterResume >= counterAtSuspend && afterResume - counterAtSuspend < witnessTo - witnessFrom - 3,
    `the counter went on from ${counterAtSuspend} (now ${afterResume}) rather than restarting or running through a pause in which the reservation's guest counted ${witnessTo - witnessFrom}`);

  // 5. Once the second reservation is over, an administrator moves it back to node-a live.
  await leaseUntil(next.id, 'ended', (l) => l.status === 'done', 2 * MINUTE);
  await pollUntil(async () => qemuPids(netnsOf['node-a']).length === 0, 'the reservation\'s VM on node-a stopped');
  const beforeMove = await counterOn('node-b', ws.ip!);
  const moved = await call.post<LeaseView>(`/v1/leases/${encodeURIComponent(be.id)}/migrate`, { nodes: ['node-a'] });
  assert.ok(moved);
  await leaseUntil(be.id, 'ran on node-a', (l) => runningWithIp(l) && l.workspaces![0].node === 'node-a', 2 * MINUTE);
  await pollUntil(async () => qemuPids(netnsOf['node-b']).length === 0 && qemuPids(netnsOf['node-a']).length === 1, 'the VM moved');
  const afterMove = await counterOn('node-a', ws.ip!);
  assert.ok(afterMove >= beforeMove, `the counter went on through the live migration (${beforeMove} -> ${afterMove})`);

  // 6. Cancelling the lease leaves no QEMU process, tap or overlay on either node.
  assert.equal(vws(config, 'lease', 'cancel', be.id).status, 0);
  await leaseUntil(be.id, 'was cancelled', (l) => l.status === 'cancelled', MINUTE);
  // The agent removes the VM's directory last, after its process and its tap.
  const leftovers = (): string[] => (['node-a', 'node-b'] as const).flatMap((name) => [
    ...qemuPids(netnsOf[name]).map((pid) => `${name}: QEMU ${pid}`),
    ...taps(netnsOf[name]).map((tap) => `${name}: tap ${tap}`),
    ...vmLeftovers(agentData[name]).map((file) => `${name}: vms/${file}`),
  ]);
  await pollUntil(async () => leftovers().length === 0, 'no QEMU process, tap or VM file left', MINUTE, leftovers);
});

test('a VM whose QEMU cannot start fails its lease with QEMU\'s own words, and leaves nothing behind', { timeout: 5 * MINUTE }, async () => {
  const guest = buildTestGuest();
  // An initrd is no kernel: QEMU refuses to load it and says so on stderr.
  cli('image', 'add', 'broken', '--file', guest.disk, '--kernel', 'guest-initrd', '--initrd', 'guest-initrd', '--cmdline', guest.cmdline);
  const doomed = (cli('lease', 'create', '--kind', 'best-effort', '--nodes', '1', '--cpu', '1', '--memory', '128', '--duration', '1h', '--image', 'broken') as { lease: LeaseView }).lease;
  const failed = await leaseUntil(doomed.id, 'failed', (l) => l.status === 'failed', 2 * MINUTE);
  assert.match(failed.reason?.message ?? '', /QEMU did not start: qemu-system-x86_64 exited with code 1: qemu.*kernel/i, JSON.stringify(failed.reason));
  await pollUntil(async () => Object.values(netnsOf).every((ns) => taps(ns).length === 0), 'no tap left');
  for (const name of ['node-a', 'node-b'] as const) await pollUntil(async () => vmLeftovers(agentData[name]).length === 0, `nothing left in ${name}'s VM directories`);
});
