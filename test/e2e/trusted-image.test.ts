// End to end with a trust policy (issue 17, item 5): the service in this process (an AgentPool, the
// lease service on SQLite with a clock the test moves, the REST API on a port), one `vws agent`
// running the test guest under QEMU in a network namespace, and the `vws` client. Under a policy
// that requires signing, a lease of the unsigned test guest is refused with untrusted-image; once
// a provider's key is trusted and its statements are attached, the same lease boots and its guest
// answers. The agent checks the statements itself: a lease accepted while its signer was trusted,
// whose signer is removed before it boots, is refused by the node with the agent's reason.

import assert from 'node:assert/strict';
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { buildTestGuest, type TestGuest } from '../../guest/build.ts';
import { poolWorld, type PoolWorld } from '../control/support/agent-pool-world.ts';
import { type Run, vwsBackground } from '../cli/client/real-server.ts';
import { httpGetIn, killAllIn, twoNodeFabric, type TwoNodeFabric } from '../support/netns.ts';
import { type AgentProcess, type LeaseView, startAgent } from './qemu-pool.ts';

const MINUTE = 60_000;

/** Polls until `probe` gives a value; the limit only guards against a hang (a TCG boot takes a while), nothing asserts how fast. */
async function until<T>(what: string, probe: () => T | undefined | Promise<T | undefined>): Promise<T> {
  for (const end = Date.now() + (3 * MINUTE); Date.now() < end;) {
    const v = await probe();
    if (v !== undefined) return v;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`gave up waiting: ${what}\n${world.logs.join('\n')}\n${agent?.output()}`);
}

let dir: string;
let fabric: TwoNodeFabric;
let world: PoolWorld;
let agent: AgentProcess;
let guest: TestGuest;
let config: string;

/** `vws ...` as the administrator; its exit code and output. Not spawnSync: the service runs in this process. */
async function cli(...args: string[]): Promise<Run> {
  const child = vwsBackground(config, ...args);
  const status = await child.exit;
  return { status, stdout: child.lines.map((l) => `${l}\n`).join(''), stderr: child.stderrText() };
}
const ok = async (...args: string[]): Promise<string> => {
  const r = await cli(...args);
  assert.equal(r.status, 0, `vws ${args.join(' ')}: ${r.stderr}${r.stdout}`);
  return r.stdout;
};
const lease = async (id: string): Promise<LeaseView> => (await world.api(`/v1/leases/${encodeURIComponent(id)}`)) as LeaseView;
const IMAGES = () => [['guest-kernel', guest.kernel], ['guest-initrd', guest.initrd], ['guest', guest.disk]] as const;

before(async () => {
  guest = buildTestGuest();
  dir = mkdtempSync(join(tmpdir(), 'vws-trusted-image-'));
  // dnsmasq runs as nobody and must reach its hosts file under the agent's data directory.
  chmodSync(dir, 0o755);
  fabric = twoNodeFabric('vti');
  mkdirSync(join(dir, 'service'));
  world = await poolWorld({ dir: join(dir, 'service') });
  config = join(dir, 'client', 'config.json');
  await ok('login', '--server', world.server, '--token', world.admin);
  await ok('image', 'add', 'guest-kernel', '--file', guest.kernel);
  await ok('image', 'add', 'guest-initrd', '--file', guest.initrd);
  await ok('image', 'add', 'guest', '--file', guest.disk, '--kernel', 'guest-kernel', '--initrd', 'guest-initrd', '--cmdline', guest.cmdline);
  mkdirSync(join(dir, 'agent'), { mode: 0o755 });
  chmodSync(join(dir, 'agent'), 0o755);
  agent = startAgent({ name: 'node-a', server: world.server, token: world.admin, data: join(dir, 'agent'), netns: fabric.namespaces[0], migrationAddress: fabric.addresses[0] });
  await until('node-a joined', () => (world.pool.hub.isConnected('node-a') ? true : undefined));
});

after(async () => {
  await agent?.kill();
  await world?.close();
  for (const ns of fabric?.namespaces ?? []) await killAllIn(ns);
  fabric?.destroy();
  rmSync(dir, { recursive: true, force: true });
});

test('an unsigned image is refused under a signing policy; signed by a trusted provider, it boots under QEMU', { timeout: 6 * MINUTE }, async () => {
  await ok('trust', 'policy', '--require', 'signed');
  const refused = await cli('lease', 'create', '--kind', 'best-effort', '--nodes', '1', '--cpu', '1', '--memory', '128', '--duration', '2h', '--image', 'guest', '--json');
  assert.notEqual(refused.status, 0);
  assert.match(refused.stderr, /untrusted-image|not trusted by this site's policy/);
  assert.match(refused.stderr, /unsigned/);

  // The provider's key, its statements (checked here first: a statement is about one file), and the site's trust.
  const keys = join(dir, 'provider');
  await ok('image', 'keygen', '--out', keys);
  const [priv, pub] = [join(keys, 'signing.key.pem'), join(keys, 'signing.pub.pem')];
  await ok('image', 'sign', guest.disk, '--key', priv, '--name', 'guest', '--claim', 'patched=2026-12-01', '--description', 'the test guest', '--out', join(dir, 'guest.statement.json'));
  assert.match(await ok('image', 'verify', guest.disk, join(dir, 'guest.statement.json'), '--signer', pub), /^verified: /);
  const otherFile = await cli('image', 'verify', guest.kernel, join(dir, 'guest.statement.json'), '--signer', pub);
  assert.equal(otherFile.status, 1);
  assert.match(otherFile.stdout, /not verified: the statement is about other bytes/);
  const tampered = JSON.parse(readFileSync(join(dir, 'guest.statement.json'), 'utf8'));
  tampered.payload = Buffer.from(Buffer.from(tampered.payload, 'base64').toString('utf8').replace('2026-12-01', '2026-12-09')).toString('base64');
  writeFileSync(join(dir, 'tampered.json'), JSON.stringify(tampered));
  assert.match((await cli('image', 'verify', guest.disk, join(dir, 'tampered.json'), '--signer', pub)).stdout, /not verified: the signature does not verify/);

  for (const [name, file] of IMAGES()) await ok('image', 'sign', file, '--key', priv, '--name', name, '--claim', 'patched=2026-12-01', '--upload');
  const unknown = JSON.parse((await cli('image', 'verify', 'guest', '--json')).stdout);
  assert.deepEqual([unknown.accepted, unknown.reasons.map((r: { code: string }) => r.code)], [false, ['unknown-signer']]);
  await ok('trust', 'add-signer', 'provider', '--key', pub, '--claims', 'patched');
  assert.match(await ok('trust', 'list'), /^provider\s+[0-9a-f]{16}\s+patched\s+admin/m);
  assert.match(await ok('image', 'verify', 'guest'), /under policy 'signed': accepted/);

  const created = JSON.parse(await ok('lease', 'create', '--kind', 'best-effort', '--nodes', '1', '--cpu', '1', '--memory', '128', '--duration', '2h', '--image', 'guest', '--json'));
  const id: string = created.lease.id;
  world.clock.advance(Math.max(0, created.lease.plannedStart - world.clock.now()));
  const running = await until('the signed guest ran', async () => {
    const l = await lease(id);
    return l.status === 'running' && l.workspaces?.[0]?.status === 'running' && l.workspaces[0].ip !== null ? l : undefined;
  });
  const counter = await until('the guest answers', () => httpGetIn(fabric.namespaces[0], running.workspaces![0].ip!, '/counter').catch(() => undefined));
  assert.match(counter.trim(), /^\d+$/);
  await ok('lease', 'cancel', id);
  await until('cancelled', async () => ((await lease(id)).status === 'cancelled' ? true : undefined));
});

test('the agent checks for itself: a lease whose signer is no longer trusted when it boots is refused on the node with the reason', { timeout: 6 * MINUTE }, async () => {
  const start = world.clock.now() + 3600;
  const created = JSON.parse(await ok('lease', 'create', '--kind', 'exact', '--start', String(start), '--nodes', '1', '--cpu', '1', '--memory', '128', '--duration', '1h', '--image', 'guest', '--json'));
  const id: string = created.lease.id;
  await ok('trust', 'remove', 'provider');
  world.clock.advance(start - world.clock.now());
  // The node refuses it; the service records the node's reason as the workspace's error.
  const error = await until('the node refused the image', async () => (await world.store.eventsAfter(0, 10_000)).find((e) => e.leaseId === id && e.type === 'workspace.error'));
  assert.match((error.data as { message: string }).message, /node 'node-a' failed \w+: image 'guest' carries no signed statement by a trusted signer, and the site requires one: the agent does not boot it/);
  assert.deepEqual((await lease(id)).workspaces, [], 'no VM was made for it');
});
