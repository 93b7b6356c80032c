// npm run bench:broker — the context broker's service time per member for clusters of 10, 100 and
// 1,000 members: each member does exchange → report → context → done over HTTP against a real
// service on a SQLite file. The members are another process (broker-client.ts), one request at a
// time; service time is what the server spends on a request, from Fastify's onRequest to its
// onResponse, summed over the member's four requests, and beside it the server process's CPU time
// over the run. The baseline, measured in the same run the same way, is GET /v1/health: the HTTP
// stack with nothing behind it.
// Writes bench/results/broker.json.

import { execFile } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { promisify } from 'node:util';
import os, { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildServer } from '../src/api/server.ts';
import { ContextBroker } from '../src/broker/broker.ts';
import { wallClock } from '../src/control/clock.ts';
import { LeaseService } from '../src/control/lease-service.ts';
import { configWith } from '../src/core/config.ts';
import { SimulatedDriver } from '../src/drivers/simulated/simulated-driver.ts';
import { openSqliteStore } from '../src/store/sqlite-store.ts';

const SIZES = (process.env.BENCH_SIZES ?? '10,100,1000').split(',').map(Number);
const AIM_MS = 5;
const REPEATS = Number(process.env.BENCH_REPEATS ?? 3);

const dir = mkdtempSync(join(tmpdir(), 'vws-bench-broker-'));
const store = await openSqliteStore(join(dir, 'vws.db'));
const driver = new SimulatedDriver({ delaysMs: { start: 1, stop: 1, suspend: 1, resume: 1, migrate: 1, prepareImage: 1 } });
const service = await LeaseService.open({ store, driver, clock: wallClock, config: configWith({}) });
const broker = await ContextBroker.open(store, wallClock);
const app = buildServer({ service, store, version: 'bench', blobDir: join(dir, 'blobs'), now: () => wallClock.now(), broker });
let serverNs = 0n;
const started = new WeakMap<object, bigint>();
app.addHook('onRequest', async (req) => { started.set(req, process.hrtime.bigint()); });
app.addHook('onResponse', async (req) => { serverNs += process.hrtime.bigint() - started.get(req)!; });
await app.listen({ host: '127.0.0.1', port: 0 });
const url = `http://127.0.0.1:${(app.server.address() as { port: number }).port}`;

const ms = (ns: bigint): number => Number(ns) / 1e6;
const run = promisify(execFile);

/** The server's CPU time (ms) and the wall time (ms) of running a client process with these arguments. */
async function client(args: string[]): Promise<{ cpuMs: number; wallMs: number; stdout: string }> {
  const cpu0 = process.cpuUsage();
  const t0 = process.hrtime.bigint();
  const out = await run(process.execPath, ['--import', 'tsx', join(import.meta.dirname, 'broker-client.ts'), url, ...args], { cwd: join(import.meta.dirname, '..') });
  const cpu = process.cpuUsage(cpu0);
  return { cpuMs: (cpu.user + cpu.system) / 1000, wallMs: ms(process.hrtime.bigint() - t0), stdout: out.stdout };
}

/**
 * What the server spends while a client process starts and stops having asked nothing (its own
 * timers, the collector): taken off every figure below. The median of five.
 */
async function idle(): Promise<{ cpuMs: number; wallMs: number }> {
  const runs = [];
  for (let i = 0; i < 5; i++) runs.push(await client(['health', '0']));
  const mid = (xs: number[]) => xs.sort((a, b) => a - b)[2];
  return { cpuMs: mid(runs.map((r) => r.cpuMs)), wallMs: mid(runs.map((r) => r.wallMs)) };
}
let overhead = { cpuMs: 0, wallMs: 0 };

/** Server wall and CPU time of one GET /v1/health, as the mean of n asked by another process. */
async function baseline(n: number): Promise<{ wall: number; cpu: number }> {
  serverNs = 0n;
  const r = await client(['health', String(n)]);
  return { wall: ms(serverNs) / n, cpu: Math.max(0, r.cpuMs - overhead.cpuMs) / n };
}

let clusters = 0;

async function cluster(members: number): Promise<Record<string, number>> {
  const leaseId = `bench-${members}-${++clusters}`;
  const workers = members - 1;
  const t0 = process.hrtime.bigint();
  const registered = await broker.register({
    leaseId, ownerKeys: ['ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIBench owner@bench'],
    roles: [
      { name: 'head', count: 1, provides: ['nfs-export'], requires: [], files: [{ path: '/etc/exports', content: '/srv *(rw)\n', mode: 0o644 }] },
      { name: 'worker', count: workers, provides: [], requires: ['head.ip', 'head.nfs-export', 'head.host-key'], files: [] },
    ],
    members: [{ id: 'head-0', role: 'head', index: 0, hostname: 'head-0' }, ...Array.from({ length: workers }, (_, i) => ({ id: `worker-${i}`, role: 'worker', index: i, hostname: `worker-${i}` }))],
  });
  if (!registered.ok) throw new Error(registered.message);
  const registerMs = ms(process.hrtime.bigint() - t0);
  const file = join(dir, `${leaseId}.json`);
  writeFileSync(file, JSON.stringify({ leaseId, secrets: registered.value }));
  serverNs = 0n;
  const r = await client([file]);
  const { contextBytes } = JSON.parse(r.stdout.trim().split('\n').pop()!) as { contextBytes: number };
  if (broker.view(leaseId)?.status !== 'complete') throw new Error(`cluster of ${members}: not complete`);
  return {
    members, registerMs, contextBytes,
    serviceMsPerMember: ms(serverNs) / members,
    // The whole server process's CPU while the members ran (the client is another process).
    serviceCpuMsPerMember: Math.max(0, r.cpuMs - overhead.cpuMs) / members,
    wallMsPerMember: Math.max(0, r.wallMs - overhead.wallMs) / members,
  };
}

try {
  overhead = await idle();
  await baseline(200); // warm-up
  await cluster(10); // warm-up: the first requests of each route compile its code
  const health = await baseline(3000);
  const rows: Array<Record<string, number>> = [];
  for (const n of SIZES) {
    // The median of REPEATS runs: the machine is shared, and one run can be slowed by others.
    const runs: Array<Record<string, number>> = [];
    for (let i = 0; i < REPEATS; i++) runs.push(await cluster(n));
    runs.sort((a, b) => a.serviceMsPerMember - b.serviceMsPerMember);
    const r: Record<string, number> = { ...runs[Math.floor(runs.length / 2)], runs: runs.length, fastestMsPerMember: runs[0].serviceMsPerMember, slowestMsPerMember: runs[runs.length - 1].serviceMsPerMember };
    r.ratioToHealth = r.serviceMsPerMember / (4 * health.wall);
    r.cpuRatioToHealth = r.serviceCpuMsPerMember / (4 * health.cpu);
    rows.push(r);
    process.stdout.write(`${String(n).padStart(5)} members: ${r.serviceMsPerMember.toFixed(3)} ms service time per member x${r.ratioToHealth.toFixed(1)} of 4 GET /v1/health; CPU ${r.serviceCpuMsPerMember.toFixed(3)} ms (x${r.cpuRatioToHealth.toFixed(1)}); wall ${r.wallMsPerMember.toFixed(2)} ms per member; register ${r.registerMs.toFixed(1)} ms; context ${r.contextBytes} bytes; runs ${r.fastestMsPerMember.toFixed(2)}-${r.slowestMsPerMember.toFixed(2)} ms\n`);
  }
  const at1000 = rows.find((r) => r.members === 1000);
  process.stdout.write(`baseline GET /v1/health: ${health.wall.toFixed(4)} ms service time, ${health.cpu.toFixed(4)} ms CPU${at1000 ? `; at 1,000 members ${at1000.serviceMsPerMember.toFixed(2)} ms per member (aim ≤ ${AIM_MS} ms: ${at1000.serviceMsPerMember <= AIM_MS ? 'met' : 'NOT met'})` : ''}\n`);
  mkdirSync(join(import.meta.dirname, 'results'), { recursive: true });
  writeFileSync(join(import.meta.dirname, 'results', 'broker.json'), `${JSON.stringify({ bench: 'broker', store: 'sqlite', healthServiceMs: health.wall, healthCpuMs: health.cpu, clientProcessOverhead: overhead, loadAverage: os.loadavg(), aimMsPerMemberAt1000: AIM_MS, clusters: rows, node: process.version, at: new Date().toISOString() }, null, 2)}\n`);
} finally {
  await app.close();
  broker.close();
  await service.close();
  await driver.close();
  await store.close();
  rmSync(dir, { recursive: true, force: true });
}
