// The service as `vws serve` wires it for cluster contexts (the broker opened before the driver,
// its settling written into the lease's stream, the contexts following the lease events), on a
// real SQLite file with the simulated driver, the API listening on a port for the context agent;
// and the helpers that take a member's seed apart and run the real agent on it.

import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { FastifyInstance } from 'fastify';
import { bootstrapAdmin, issueToken } from '../../../src/api/auth.ts';
import { agentSha256 } from '../../../src/api/routes/context.ts';
import { buildServer } from '../../../src/api/server.ts';
import { ContextBroker } from '../../../src/broker/broker.ts';
import { CONTEXT_CONFIG, CONTEXT_ENTRIES } from '../../../src/seed/cloud-config.ts';
import type { StepTimeouts } from '../../../src/broker/types.ts';
import { ManualClock } from '../../../src/control/clock.ts';
import { ClusterContexts } from '../../../src/broker/cluster-contexts.ts';
import { LeaseService } from '../../../src/control/lease-service.ts';
import { leaseSeeds } from '../../../src/broker/lease-seeds.ts';
import { configWith } from '../../../src/core/config.ts';
import type { VmSpec } from '../../../src/drivers/driver.ts';
import type { SeedFiles, SeedNicPlan } from '../../../src/drivers/qemu/protocol.ts';
import { SimulatedDriver } from '../../../src/drivers/simulated/simulated-driver.ts';
import { openSqliteStore } from '../../../src/store/sqlite-store.ts';
import type { Store } from '../../../src/store/store.ts';
import { cluster, ed25519Line } from '../../api/cluster-body.ts';
import { readSeeds } from '../../seed/seed-reader.ts';

export const AGENT = fileURLToPath(new URL('../../../guest/context-agent/vws-context-agent', import.meta.url));
const T0 = 1_800_000_000;

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- JSON from the API, read loosely: the asserts check its shape
export type Json = any;

export interface World {
  dir: string;
  store: Store;
  clock: ManualClock;
  service: LeaseService;
  broker: ContextBroker;
  contexts: ClusterContexts;
  app: FastifyInstance;
  url: string;
  alice: string;
  call(method: string, url: string, body?: unknown): Promise<{ status: number; body: Json }>;
  /** Until nothing of the service's own or the contexts' is under way. */
  settle(): Promise<void>;
  /** Has the contexts follow the lease events again, catching up with what they missed. */
  watch(): Promise<void>;
  /** Has the contexts stop following the lease events. */
  unwatch(): void;
  close(): Promise<void>;
}

/**
 * The service as `vws serve` wires it: the broker opened first, its settling written into the
 * lease's stream. `watching: false` leaves the contexts deaf to the lease events until watch()
 * (a service that crashed between deploying a cluster and registering it, say).
 */
export async function world(timeouts?: Partial<StepTimeouts>, watching = true): Promise<World> {
  const dir = mkdtempSync(join(tmpdir(), 'vws-cluster-ctx-'));
  const store = await openSqliteStore(join(dir, 'vws.db'));
  const clock = new ManualClock(T0);
  await bootstrapAdmin(store, T0, 'admin-token');
  await store.putUser({ id: 'alice', name: 'alice', isAdmin: false, createdAt: T0 });
  const alice = (await issueToken(store, 'alice', 't', T0)).token;
  let contexts: ClusterContexts | null = null;
  const broker = await ContextBroker.open(store, clock, { onSettled: (v) => contexts?.settled(v) });
  contexts = new ClusterContexts(store, broker, { timeouts });
  const driver = new SimulatedDriver({ delaysMs: { start: 1, stop: 1, suspend: 1, resume: 1, migrate: 1, prepareImage: 1 } });
  const service = await LeaseService.open({ store, driver, clock, config: configWith({}) });
  for (let i = 1; i <= 4; i++) await service.pool.addNode({ id: `n${i}`, cpu: 1, memoryMiB: 1024, diskMiB: 10_000 });
  let unwatch = watching ? await contexts.watch(service) : () => {};
  const app = buildServer({ service, store, version: 'test', blobDir: join(dir, 'blobs'), now: () => clock.now(), broker });
  await app.listen({ host: '127.0.0.1', port: 0 });
  const url = `http://127.0.0.1:${(app.server.address() as { port: number }).port}`;
  const ctx = contexts;
  return {
    dir, store, clock, service, broker, contexts: ctx, app, url, alice,
    async call(method, path, body) {
      const res = await app.inject({ method: method as 'GET', url: path, payload: body as object, headers: { authorization: `Bearer ${alice}` } });
      return { status: res.statusCode, body: res.headers['content-type']?.toString().startsWith('application/json') ? JSON.parse(res.body) : res.body };
    },
    async settle() {
      for (let i = 0; i < 5; i++) {
        await service.idle();
        await ctx.idle();
      }
    },
    async watch() {
      unwatch = await ctx.watch(service);
    },
    unwatch() {
      unwatch();
      unwatch = () => {};
    },
    async close() {
      await app.close();
      unwatch();
      await ctx.idle();
      broker.close();
      await service.close();
      await driver.close();
      await store.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

export const vmOf = (leaseId: string, index: number): VmSpec => ({ id: `${leaseId}/${index}`, leaseId, index, node: 'n1', cpu: 1, memoryMiB: 256, image: null, mac: `52:54:00:00:02:1${index}` });

export interface MemberSeed { member: string; hostname: string; configText: string; agentUrl: string; agentHash: string }

/** Each VM's seed as the driver would get it, read back with cloud-init's reader: the agent's config file and how the agent is fetched. */
export async function memberSeeds(w: World, leaseId: string, count: number, nicsOf?: (index: number) => SeedNicPlan[] | undefined): Promise<Array<MemberSeed | null>> {
  const seeds = leaseSeeds(w.store, { contexts: w.contexts, guestUrl: w.url, agentSha256: agentSha256() });
  const made: SeedFiles[] = [];
  for (let i = 0; i < count; i++) made.push((await seeds(vmOf(leaseId, i), nicsOf?.(i)))!);
  return readSeeds(made).map((r) => {
    const config = r.parts[0].config as { write_files?: Array<{ path: string; content: string }>; runcmd?: string[][] };
    assert.equal(r.parts[0].schemaProblem ?? null, null, 'cloud-init schema takes the seed');
    const file = config.write_files?.find((f) => f.path === CONTEXT_CONFIG);
    if (!file) return null;
    const fetch = config.runcmd!.find((c) => c[0] === 'python3')!;
    const parsed = JSON.parse(file.content) as { member: string; hostname: string };
    return { member: parsed.member, hostname: parsed.hostname, configText: file.content, agentUrl: fetch[3], agentHash: fetch[5] };
  });
}

/** A member's root as its guest would have it: a host key made by ssh-keygen, /etc/hosts, the config from its seed, its entries. */
export function memberRoot(w: World, s: MemberSeed, entries: Record<string, string>): { root: string; config: string } {
  const root = join(w.dir, s.member);
  mkdirSync(join(root, 'etc/ssh'), { recursive: true });
  mkdirSync(join(root, 'etc/vws'), { recursive: true });
  execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', `root@${s.hostname}`, '-f', join(root, 'etc/ssh/ssh_host_ed25519_key')]);
  writeFileSync(join(root, 'etc/hosts'), '127.0.0.1 localhost\n');
  writeFileSync(join(root, CONTEXT_ENTRIES), JSON.stringify(entries));
  const config = join(root, CONTEXT_CONFIG);
  writeFileSync(config, s.configText, { mode: 0o600 });
  return { root, config };
}

export function runAgent(m: { root: string; config: string }): Promise<{ code: number | null; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn('python3', [AGENT, '--config', m.config, '--root', m.root, '--poll', '0.1', '--timeout', '120']);
    let stderr = '';
    child.stderr.on('data', (d) => { stderr += d; });
    child.on('close', (code) => resolve({ code, stderr }));
  });
}

/** Makes the 1 + 2 cluster and waits until the broker holds its context (its deployment registered it). */
export async function deployedCluster(w: World): Promise<string> {
  const made = await w.call('POST', '/v1/leases', cluster({ sshPublicKeys: [ed25519Line('alice@laptop')] }));
  assert.equal(made.status, 201, JSON.stringify(made.body));
  const id = made.body.lease.id as string;
  for (let round = 0; round < 30 && !w.broker.view(id); round++) {
    await w.settle();
    if (!w.broker.view(id)) w.clock.advance(1);
  }
  assert.ok(w.broker.view(id), 'the cluster is registered as it deploys, before any seed is made');
  return id;
}

export async function leaseEvents(w: World, id: string): Promise<Array<{ type: string; data: Json }>> {
  return (await w.store.eventsAfter(0, 10_000)).filter((e) => e.leaseId === id).map((e) => ({ type: e.type, data: e.data as Json }));
}

