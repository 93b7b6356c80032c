import { configWith } from './src/core/config.ts';
import type { LeaseRequest } from './src/core/types.ts';
import { ManualClock } from './src/control/clock.ts';
import { LeaseService } from './src/control/lease-service.ts';
import { SimulatedDriver } from './src/drivers/simulated/simulated-driver.ts';
import { openPostgresStore } from './src/store/postgres-store.ts';
const T0 = 1_800_000_000;
const schema = `vws_prof_${process.pid}`;
const store = await openPostgresStore('postgres://postgres@127.0.0.1:5432/test', { schema });
const counts: Record<string, number> = {};
const q = (store as any).send.bind(store);
(store as any).send = (on: unknown, sql: string, p: unknown[]) => { const k = sql.trim().split(/\s+/).slice(0, 3).join(' '); counts[k] = (counts[k] ?? 0) + 1; return q(on, sql, p); };
const l = store.leadership(); const e = (await l.election.campaign({ holder: 'x', address: 'http://x' }))!; if (process.env.FENCE) l.fence(e);
await store.putUser({ id: 'u', name: 'u', isAdmin: false, createdAt: T0 });
const driver = new SimulatedDriver({ delaysMs: { start: 1, stop: 1, suspend: 1, resume: 1, migrate: 1, prepareImage: 1 } });
const service = await LeaseService.open({ store, backends: [{ name: driver.name, driver }], clock: new ManualClock(T0), config: configWith({}) });
for (let i = 0; i < 1000; i++) await service.addNode({ id: `n${i}`, cpu: 16, memoryMiB: 65_536, diskMiB: 0 });
const lease = (id: string): LeaseRequest => ({ id, kind: 'best-effort', arrival: 0, requestedStart: null, duration: 86_400, nodes: 1, perNode: { cpu: 1, memoryMiB: 1024, diskMiB: 0 }, preemptible: true });
const N = Number(process.env.N ?? 2000);
for (const k of Object.keys(counts)) delete counts[k];
const t0 = process.hrtime.bigint();
for (let i = 0; i < N; i += 16) {
  await Promise.all(Array.from({ length: 16 }, (_, k) => service.create('u', null, lease(`m-${i + k}`), `key-${i + k}`)));
}
const s = Number(process.hrtime.bigint() - t0) / 1e9;
console.log(`${(N / s).toFixed(0)} creates/s`, JSON.stringify(Object.fromEntries(Object.entries(counts).map(([k, v]) => [k, +(v / N).toFixed(2)]))));
await service.close(); await driver.close(); await l.election.close(); await store.close();
const pg = (await import('pg')).default; const c = new pg.Client('postgres://postgres@127.0.0.1:5432/test'); await c.connect(); await c.query(`DROP SCHEMA ${schema} CASCADE`); await c.end();
