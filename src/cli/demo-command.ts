// `vws demo`: the service on SQLite with two simulated nodes, and a scripted minute of a
// research cloud's life to watch: a best-effort lease starts, another queues, an advance
// reservation arrives and the first lease is suspended to make room for it, then resumed.

import { rmSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { bootstrapAdmin, issueToken } from '../api/auth.ts';
import { buildServer } from '../api/server.ts';
import { configWith } from '../core/config.ts';
import { wallClock } from '../control/clock.ts';
import { LeaseService } from '../control/lease-service.ts';
import { SimulatedDriver } from '../drivers/simulated/simulated-driver.ts';
import { openStore } from '../store/open-store.ts';
import type { EventRow } from '../store/store.ts';

const say = (line: string): void => {
  process.stdout.write(`${line}\n`);
};

export async function demoCommand(dir: string | undefined): Promise<number> {
  const data = resolve(dir ?? 'vws-data/demo');
  rmSync(data, { recursive: true, force: true });
  const store = await openStore(join(data, 'vws.db'));
  const start = wallClock.now();
  const adminToken = (await bootstrapAdmin(store, start))!;
  const driver = new SimulatedDriver({ stateFile: join(data, 'simulated-vms.json') });
  const service = await LeaseService.open({ store, driver, clock: wallClock, config: configWith({}) });
  for (const id of ['node-1', 'node-2']) {
    const added = await service.pool.addNode({ id, cpu: 1, memoryMiB: 1024, diskMiB: 100_000 });
    if (!added.ok) throw new Error(`could not add ${id}: ${added.message}`);
  }
  const app = buildServer({ service, store, version: 'demo', blobDir: join(data, 'blobs'), now: () => wallClock.now() });
  const url = await app.listen({ host: '127.0.0.1', port: 0 });
  await store.putUser({ id: 'ada', name: 'ada', isAdmin: false, createdAt: start });
  const ada = (await issueToken(store, 'ada', 'demo', start)).token;

  say(`vws demo: the service runs at ${url}/v1 on SQLite (${join(data, 'vws.db')}) with two simulated nodes of 1 CPU and 1 GiB.`);
  say(`admin token (shown once): ${adminToken}`);
  say(`try, in another terminal: vws login --server ${url} --token ${adminToken}; vws lease list; vws lease watch`);
  say(`or watch it in a browser: ${url}/ui (sign in with the admin token)\n`);

  const t0 = wallClock.now();
  const clock = (): string => `+${String(wallClock.now() - t0).padStart(3)}s`;
  const names = new Map<string, string>();
  const finished = new Set<string>();
  const unsubscribe = service.onEvent((e: EventRow) => {
    if (e.type !== 'lease.status' || !e.leaseId) return;
    const { from, to } = e.data as { from: string | null; to: string };
    if (from === null) return; // the request's own answer says how it starts
    say(`${clock()}  event   ${names.get(e.leaseId) ?? e.leaseId}: ${from ?? 'new'} -> ${to}`);
    if (['done', 'cancelled', 'failed', 'rejected'].includes(to)) finished.add(e.leaseId);
  });
  const post = async (token: string, name: string, body: object, command: string): Promise<string> => {
    say(`${clock()}  $ ${command}`);
    const res = await fetch(`${url}/v1/leases`, { method: 'POST', body: JSON.stringify(body), headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' } });
    const json = (await res.json()) as { lease?: { id: string; status: string; plannedStart: number }; message?: string; decision?: { preempted?: Array<{ leaseId: string; how: string }> } };
    if (!json.lease) throw new Error(`the demo's request was refused: ${json.message}`);
    names.set(json.lease.id, name);
    const preempted = (json.decision?.preempted ?? []).map((p) => `${names.get(p.leaseId) ?? p.leaseId} (${p.how})`).join(', ');
    say(`${clock()}  -> ${name} is ${json.lease.id}: ${json.lease.status}, planned to run from +${json.lease.plannedStart - t0}s${preempted ? `; to make room: ${preempted}` : ''}`);
    return json.lease.id;
  };
  const wait = (seconds: number) => new Promise((r) => setTimeout(r, seconds * 1000));

  const sim = await post(ada, 'simulation', { kind: 'best-effort', nodes: 2, cpu: 1, memoryMiB: 256, duration: 30 }, 'vws lease create --kind best-effort --nodes 2 --cpu 1 --memory 256 --duration 30s   # ada');
  await wait(2);
  const post2 = await post(ada, 'postprocess', { kind: 'best-effort', nodes: 1, cpu: 1, memoryMiB: 256, duration: 10 }, 'vws lease create --kind best-effort --nodes 1 --cpu 1 --memory 256 --duration 10s   # ada: the pool is full, it queues');
  await wait(2);
  await post(adminToken, 'lecture', { kind: 'exact', nodes: 2, cpu: 1, memoryMiB: 512, duration: 10, start: t0 + 20 }, 'vws lease create --kind exact --nodes 2 --cpu 1 --memory 512 --duration 10s --start +16s   # a reservation for the whole pool');
  say(`${clock()}  (the simulation is suspended so that its suspension, 256 MiB at 50 MB/s, has ended when the lecture starts; it resumes after)`);
  while (!(finished.has(sim) && finished.has(post2))) await wait(1);
  unsubscribe();

  say('\nwhere everything ran (the schedule, as vws.schedule/v1):');
  for (const line of [...service.scheduleExport()].slice(1)) {
    const l = JSON.parse(line) as { id: string; segments: Array<{ kind: string; start: number; end: number; nodes: string[] }> };
    say(`  ${(names.get(l.id) ?? l.id).padEnd(12)} ${l.segments.map((s) => `${s.kind} +${s.start - t0}..+${s.end - t0}s on ${s.nodes.join(',')}`).join('; ')}`);
  }
  say(`\ndone. The data stays in ${data}: \`vws serve --data ${data}\` serves it again.`);
  await app.close();
  await service.close();
  await driver.close();
  await store.close();
  return 0;
}
