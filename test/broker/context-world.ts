// A service with the context broker, on a real store (a SQLite file or a PostgreSQL schema of its
// own), its API listening on a real port (the agent script talks HTTP to it), a clock the test
// moves, and a restart that reopens everything on the same store as `vws serve` would.

import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { bootstrapAdmin, issueToken } from '../../src/api/auth.ts';
import { buildServer } from '../../src/api/server.ts';
import { ContextBroker } from '../../src/broker/broker.ts';
import type { Registration } from '../../src/broker/registration.ts';
import { ManualClock } from '../../src/control/clock.ts';
import { LeaseService } from '../../src/control/lease-service.ts';
import { configWith } from '../../src/core/config.ts';
import { SimulatedDriver } from '../../src/drivers/simulated/simulated-driver.ts';
import type { Store } from '../../src/store/store.ts';
import { openTestStore, type StoreKind } from '../support/test-stores.ts';

export const T0 = 1_800_000_000;

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- JSON from the API, read loosely: the tests' asserts check its shape
type Json = any;

export interface ContextWorld {
  app: FastifyInstance;
  broker: ContextBroker;
  store: Store;
  clock: ManualClock;
  tokens: { admin: string; alice: string; bob: string };
  /** Where the API listens, e.g. http://127.0.0.1:41234. */
  url: string;
  dir: string;
  call(token: string | null, method: string, url: string, body?: unknown): Promise<{ status: number; body: Json; headers: Record<string, unknown>; raw: Buffer }>;
  /** A lease of alice's (the owner), made through the API. */
  aliceLease(): Promise<string>;
  register(r: Registration): Promise<Map<string, string>>;
  restart(): Promise<void>;
  close(): Promise<void>;
}

export async function contextWorld(kind: StoreKind = 'sqlite', listen = false): Promise<ContextWorld> {
  const dir = mkdtempSync(join(tmpdir(), 'vws-broker-'));
  const { store, drop } = await openTestStore(kind, dir);
  const clock = new ManualClock(T0);
  const admin = (await bootstrapAdmin(store, T0, 'admin-token'))!;
  for (const name of ['alice', 'bob']) await store.putUser({ id: name, name, isAdmin: false, createdAt: T0 });
  const tokens = { admin, alice: (await issueToken(store, 'alice', 't', T0)).token, bob: (await issueToken(store, 'bob', 't', T0)).token };
  const driver = new SimulatedDriver({ delaysMs: { start: 1, stop: 1, suspend: 1, resume: 1, migrate: 1, prepareImage: 1 } });
  let port = 0;
  const start = async () => {
    const service = await LeaseService.open({ store, driver, clock, config: configWith({}) });
    if ((await store.listNodes()).length === 0) for (let i = 1; i <= 4; i++) await service.pool.addNode({ id: `n${i}`, cpu: 1, memoryMiB: 1024, diskMiB: 10_000 });
    const broker = await ContextBroker.open(store, clock);
    const app = buildServer({ service, store, version: 'test', blobDir: join(dir, 'blobs'), now: () => clock.now(), broker });
    await app.ready();
    if (listen) {
      await app.listen({ host: '127.0.0.1', port });
      port = (app.server.address() as { port: number }).port;
    }
    return { service, broker, app };
  };
  let running = await start();
  const world: ContextWorld = {
    app: running.app, broker: running.broker, store, clock, tokens, dir, url: `http://127.0.0.1:${port}`,
    async call(token, method, url, body) {
      const res = await world.app.inject({ method: method as 'GET', url, payload: body as object, headers: token ? { authorization: `Bearer ${token}` } : {} });
      const json = res.headers['content-type']?.toString().startsWith('application/json');
      return { status: res.statusCode, body: json ? JSON.parse(res.body) : res.body, headers: res.headers, raw: res.rawPayload };
    },
    async aliceLease() {
      const res = await world.call(tokens.alice, 'POST', '/v1/leases', { kind: 'best-effort', nodes: 1, cpu: 1, memoryMiB: 512, duration: 3600 });
      if (res.status !== 201) throw new Error(`lease: ${res.status} ${JSON.stringify(res.body)}`);
      return res.body.lease.id;
    },
    async register(r) {
      const out = await world.broker.register(r);
      if (!out.ok) throw new Error(out.message);
      return new Map(out.value.map((s) => [s.memberId, s.secret]));
    },
    async restart() {
      await running.app.close();
      running.broker.close();
      await running.service.close();
      running = await start();
      world.app = running.app;
      world.broker = running.broker;
    },
    async close() {
      await running.app.close();
      running.broker.close();
      await running.service.close();
      await driver.close();
      await store.close();
      await drop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
  return world;
}

/** A head (providing nfs-export) and `workers` workers requiring it. */
export function headAndWorkers(leaseId: string, workers = 2, o: Partial<Registration> = {}): Registration {
  return {
    leaseId, ownerKeys: ['ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOwner alice@laptop'],
    roles: [
      { name: 'head', count: 1, provides: ['nfs-export'], requires: [], files: [{ path: '/etc/exports', content: '/srv 10.0.0.0/8(rw)\n', mode: 0o644 }] },
      { name: 'worker', count: workers, provides: [], requires: ['head.ip', 'head.nfs-export', 'head.host-key'], files: [{ path: '/etc/vws/secret.conf', content: 'token=abc\n', mode: 0o600 }] },
    ],
    members: [
      { id: 'head-0', role: 'head', index: 0, hostname: 'head-0' },
      ...Array.from({ length: workers }, (_, i) => ({ id: `worker-${i}`, role: 'worker', index: i, hostname: `worker-${i}` })),
    ],
    ...o,
  };
}

export const hostKey = (name: string): string => `ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAI${Buffer.from(name).toString('base64').replace(/=/g, '')} root@${name}`;
