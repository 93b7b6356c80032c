// A service with its API on a real SQLite file (or a PostgreSQL schema of its own), the simulated
// driver and a clock the test moves.

import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { bootstrapAdmin, issueToken } from '../../src/api/auth.ts';
import { buildServer } from '../../src/api/server.ts';
import { SecretBox } from '../../src/store/secret-box.ts';
import { configWith } from '../../src/core/config.ts';
import { ManualClock } from '../../src/control/clock.ts';
import { LeaseService } from '../../src/control/lease-service.ts';
import { ContextBroker } from '../../src/broker/broker.ts';
import { ClusterContexts } from '../../src/broker/cluster-contexts.ts';
import { SimulatedDriver } from '../../src/drivers/simulated/simulated-driver.ts';
import type { Billing } from '../../src/drivers/plugin.ts';
import type { ServiceBackend } from '../../src/control/service-backend.ts';
import { openTestStore, type StoreKind } from '../support/test-stores.ts';

export { STORE_KINDS, type StoreKind } from '../support/test-stores.ts';
import type { Store } from '../../src/store/store.ts';
import type { StoreDigest } from '../support/store-digest.ts';

export const T0 = 1_800_000_000;

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- JSON from the API, read loosely: the tests' asserts check its shape
type Json = any;

export interface ApiWorld {
  app: FastifyInstance;
  store: Store;
  service: LeaseService;
  driver: SimulatedDriver;
  clock: ManualClock;
  tokens: { admin: string; alice: string; bob: string; carol: string };
  kind: StoreKind;
  /** Everything the store holds, read on a connection of its own: equal digests, nothing changed. */
  digest: StoreDigest;
  /** Where the server keeps image content. */
  blobDir: string;
  call(token: string | null, method: string, url: string, body?: unknown, headers?: Record<string, string>): Promise<{ status: number; body: Json }>;
  /** Waits until the service, and the cluster contexts when wired, have nothing left to do. */
  idle(): Promise<void>;
  /**
   * Stops the service and its server and starts new ones on the same store, driver and clock, as
   * a restarted `vws serve` would (its VMs ran on meanwhile): the new service replays the log.
   */
  restart(): Promise<void>;
  close(): Promise<void>;
}

/** `serveFrom` gives the store the service and the server use (a wrapper that fails, say); `store` stays the file itself. */
export interface ApiWorldOptions {
  /** Wire the context broker as `vws serve` does: its routes are served, cluster leases register with it (and the EC2 credential routes). */
  contexts?: boolean;
  /**
   * A second back-end leases burst to, as `vws serve --burst-to` wires one: `cloud`, two nodes of
   * 2 CPUs, on a simulated driver whose billing admits alice alone (a stand-in for EC2's accounts).
   */
  burst?: boolean;
}

/** The burst back-end of a world with `burst`: alice has an account, nobody else; a dollar an hour a VM. */
function cloudBackend(): ServiceBackend {
  const driver = new SimulatedDriver({ delaysMs: { start: 1, stop: 1, suspend: 1, resume: 1, migrate: 1, prepareImage: 1 } });
  const billing: Billing = {
    refusesOwner: (who) => (who.owner === 'alice' ? null : `user ${who.owner} may not run on cloud: no account`),
    dollarsFor: (vms, seconds) => vms.reduce((sum, v) => sum + v.count * Math.max(60, seconds) / 3600, 0),
    chargedDollars: () => 0,
    unitsPerDollar: 10,
  };
  return { name: 'cloud', driver, billing };
}

export async function apiWorld(nodes = 4, serveFrom: (store: Store) => Store = (s) => s, kind: StoreKind = 'sqlite', options: ApiWorldOptions = {}): Promise<ApiWorld> {
  const dir = mkdtempSync(join(tmpdir(), 'vws-api-'));
  const { store, drop, digester } = await openTestStore(kind, dir);
  const served = serveFrom(store);
  const clock = new ManualClock(T0);
  const admin = (await bootstrapAdmin(store, T0, 'admin-token'))!;
  for (const name of ['alice', 'bob', 'carol']) await store.putUser({ id: name, name, isAdmin: false, createdAt: T0 });
  await store.putGroup({ name: 'lab', shareLeases: true, createdAt: T0 });
  await store.addMember('lab', 'alice');
  await store.addMember('lab', 'carol');
  const tokens = { admin, alice: (await issueToken(store, 'alice', 't', T0)).token, bob: (await issueToken(store, 'bob', 't', T0)).token, carol: (await issueToken(store, 'carol', 't', T0)).token };
  const driver = new SimulatedDriver({ delaysMs: { start: 1, stop: 1, suspend: 1, resume: 1, migrate: 1, prepareImage: 1 } });
  const cloud = options.burst ? cloudBackend() : null;
  const backends: ServiceBackend[] = [{ name: driver.name, driver }, ...(cloud ? [cloud] : [])];
  const open = (): Promise<LeaseService> => LeaseService.open({ store: served, backends, clock, config: configWith({}) });
  const service = await open();
  for (let i = 1; i <= nodes; i++) await service.pool.addNode({ id: `n${i}`, cpu: 1, memoryMiB: 1024, diskMiB: 10_000 });
  if (cloud) for (let i = 1; i <= 2; i++) await service.pool.addNode({ id: `cloud-${i}`, cpu: 2, memoryMiB: 2048, diskMiB: 10_000 }, 'cloud');
  let contexts: ClusterContexts | null = null;
  const broker = options.contexts ? await ContextBroker.open(served, clock, { onSettled: (view) => contexts?.settled(view) }) : undefined;
  if (broker) contexts = new ClusterContexts(served, broker);
  let unwatch = contexts ? await contexts.watch(service) : () => {};
  const blobDir = join(dir, 'blobs');
  mkdirSync(blobDir);
  // Wired as `vws serve` wires it (with the broker): the EC2 credential routes are served too.
  const secretBox = new SecretBox(join(dir, 'ec2-secret.key'));
  const serve = async (on: LeaseService): Promise<FastifyInstance> => {
    const server = buildServer({ service: on, store: served, version: 'test', blobDir, now: () => clock.now(), ...(broker ? { broker, secretBox } : {}) });
    await server.ready();
    return server;
  };
  const world: ApiWorld = {
    app: await serve(service), store, service, driver, clock, tokens, blobDir, kind, digest: digester(),
    async call(token, method, url, body, headers = {}) {
      const res = await world.app.inject({
        method: method as 'GET', url, payload: body as object,
        headers: { ...(token ? { authorization: `Bearer ${token}` } : {}), ...headers },
      });
      const text = res.body;
      return { status: res.statusCode, body: res.headers['content-type']?.toString().startsWith('application/json') ? JSON.parse(text) : text };
    },
    async idle() {
      await world.service.idle();
      if (!contexts) return;
      await contexts.idle();
      await world.service.idle();
    },
    async restart() {
      await world.app.close();
      unwatch();
      await contexts?.idle();
      await world.service.close();
      world.service = await open();
      if (contexts) unwatch = await contexts.watch(world.service);
      world.app = await serve(world.service);
    },
    async close() {
      await world.app.close();
      unwatch();
      await contexts?.idle();
      broker?.close();
      await world.service.close();
      await driver.close();
      await cloud?.driver.close();
      await world.digest.close();
      await store.close();
      await drop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
  return world;
}

export const lease = (over: Record<string, unknown> = {}) => ({ kind: 'best-effort', nodes: 1, cpu: 1, memoryMiB: 1024, duration: 3600, ...over });
