// A service with its API on a real store (a SQLite file or a PostgreSQL schema of its own), the
// simulated driver keeping its VMs in a state file, and a clock the test moves; it can be
// restarted on the same store, as `vws serve` is after a stop: the VMs run on meanwhile.

import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { bootstrapAdmin, issueToken } from '../../src/api/auth.ts';
import { buildServer } from '../../src/api/server.ts';
import type { SchedulerConfig } from '../../src/core/config.ts';
import { ManualClock } from '../../src/control/clock.ts';
import { LeaseService } from '../../src/control/lease-service.ts';
import { SimulatedDriver } from '../../src/drivers/simulated/simulated-driver.ts';
import type { Billing } from '../../src/drivers/plugin.ts';
import type { ServiceBackend } from '../../src/control/service-backend.ts';
import { openSqliteStore } from '../../src/store/sqlite-store.ts';
import type { Store } from '../../src/store/store.ts';
import { dropTestSchema, freshSchema, openTestPostgres } from '../support/test-postgres.ts';

export const T0 = 1_800_000_000;

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- JSON from the API, read loosely: the tests' asserts check its shape
type Json = any;

/** Where a world keeps its store: opened again on each restart, dropped at the end. */
export interface StorePlace {
  name: string;
  open(): Promise<Store>;
  drop(): Promise<void>;
}

export function sqlitePlace(dir: string): StorePlace {
  return { name: 'SQLite', open: () => openSqliteStore(join(dir, 'vws.db')), drop: async () => {} };
}

export function postgresPlace(): StorePlace {
  const schema = freshSchema();
  return { name: 'PostgreSQL', open: () => openTestPostgres(schema), drop: () => dropTestSchema(schema) };
}

export type User = 'admin' | 'alice' | 'bob' | 'carol';

export interface RestartWorld {
  clock: ManualClock;
  service: LeaseService;
  driver: SimulatedDriver;
  call(who: User, method: string, url: string, body?: unknown): Promise<{ status: number; body: Json }>;
  /** Waits until the service has nothing left to do (inputs, timers that fired, VMs converging). */
  idle(): Promise<void>;
  /** Stops the service, the server and the driver, and starts them again on the same store and VMs. */
  restart(): Promise<void>;
  close(): Promise<void>;
}

interface Running {
  store: Store;
  driver: SimulatedDriver;
  cloud: SimulatedDriver | null;
  service: LeaseService;
  app: FastifyInstance;
}

/**
 * `burst`: a second back-end, `cloud` (two nodes of 2 CPUs on a simulated driver whose billing
 * admits alice alone), that leases burst to after `afterSeconds` on the pool, as `vws serve
 * --burst-to --burst-after` wires one.
 */
export async function restartWorld(place: (dir: string) => StorePlace, config: SchedulerConfig, nodes: number, burst?: { afterSeconds: number }): Promise<RestartWorld> {
  const dir = mkdtempSync(join(tmpdir(), 'vws-restart-'));
  const blobDir = join(dir, 'blobs');
  mkdirSync(blobDir);
  const where = place(dir);
  const clock = new ManualClock(T0);
  const tokens: Record<User, string> = { admin: '', alice: '', bob: '', carol: '' };

  const start = async (): Promise<Running> => {
    const store = await where.open();
    const driver = new SimulatedDriver({ delaysMs: { start: 1, stop: 1, suspend: 1, resume: 1, migrate: 1, prepareImage: 1 }, stateFile: join(dir, 'vms.json') });
    const cloud = burst ? new SimulatedDriver({ delaysMs: { start: 1, stop: 1, suspend: 1, resume: 1, migrate: 1, prepareImage: 1 }, stateFile: join(dir, 'cloud-vms.json') }) : null;
    const billing: Billing = {
      refusesOwner: (who) => (who.owner === 'alice' ? null : `user ${who.owner} may not run on cloud: no account`),
      dollarsFor: (vms, seconds) => vms.reduce((sum, v) => sum + (v.count * Math.max(60, seconds)) / 3600, 0),
      chargedDollars: () => 0,
      unitsPerDollar: null,
    };
    const backends: ServiceBackend[] = [{ name: driver.name, driver }, ...(cloud ? [{ name: 'cloud', driver: cloud, billing }] : [])];
    const service = await LeaseService.open({ store, backends, clock, config, ...(burst ? { burst } : {}) });
    const app = buildServer({ service, store, version: 'test', blobDir, now: () => clock.now() });
    await app.ready();
    return { store, driver, cloud, service, app };
  };
  const stop = async (r: Running): Promise<void> => {
    await r.app.close();
    await r.service.close();
    await r.driver.close();
    await r.cloud?.close();
    await r.store.close();
  };

  let running: Running;
  try {
    running = await start();
    tokens.admin = (await bootstrapAdmin(running.store, T0, 'admin-token'))!;
    for (const name of ['alice', 'bob', 'carol'] as const) {
      await running.store.putUser({ id: name, name, isAdmin: false, createdAt: T0 });
      tokens[name] = (await issueToken(running.store, name, 't', T0)).token;
    }
    await running.store.putGroup({ name: 'lab', shareLeases: true, createdAt: T0 });
    await running.store.addMember('lab', 'alice');
    await running.store.addMember('lab', 'carol');
    for (let i = 1; i <= nodes; i++) await running.service.pool.addNode({ id: `n${i}`, cpu: 1, memoryMiB: 1024, diskMiB: 10_000 });
    if (burst) for (let i = 1; i <= 2; i++) await running.service.pool.addNode({ id: `cloud-${i}`, cpu: 2, memoryMiB: 2048, diskMiB: 10_000 }, 'cloud');
  } catch (e) {
    await where.drop();
    rmSync(dir, { recursive: true, force: true });
    throw e;
  }

  const world: RestartWorld = {
    clock,
    get service() {
      return running.service;
    },
    get driver() {
      return running.driver;
    },
    async call(who, method, url, body) {
      const res = await running.app.inject({ method: method as 'GET', url, payload: body as object, headers: { authorization: `Bearer ${tokens[who]}` } });
      return { status: res.statusCode, body: res.headers['content-type']?.toString().startsWith('application/json') ? JSON.parse(res.body) : res.body };
    },
    idle: () => running.service.idle(),
    async restart() {
      await running.service.idle();
      await stop(running);
      running = await start();
    },
    async close() {
      try {
        await stop(running);
      } finally {
        await where.drop();
        rmSync(dir, { recursive: true, force: true });
      }
    },
  };
  return world;
}
