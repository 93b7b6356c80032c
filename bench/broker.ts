// npm run bench:broker — the context broker's service time per member for clusters of 10, 100 and
// 1,000 members: each member does exchange → report → context → done over HTTP against a real
// service on a SQLite file. Service time is what the server spends on a request, from Fastify's
// onRequest to its onResponse, summed over the member's four requests; the client (fetch, in this
// process, one request at a time so that requests do not overlap) is left out. The baseline,
// measured in the same run the same way, is GET /v1/health: the HTTP stack with nothing behind it.
// Writes bench/results/broker.json.

import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
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
// Wall time and CPU time inside each request. Requests go one at a time and the client waits
// while the server works, so the process's CPU time over a request's span is the server's: on a
// shared machine it is the steadier figure, as waits for a core are left out.
let serverNs = 0n;
let serverCpuUs = 0;
const started = new WeakMap<object, { at: bigint; cpu: NodeJS.CpuUsage }>();
app.addHook('onRequest', async (req) => { started.set(req, { at: process.hrtime.bigint(), cpu: process.cpuUsage() }); });
app.addHook('onResponse', async (req) => {
  const s = started.get(req)!;
  serverNs += process.hrtime.bigint() - s.at;
  const cpu = process.cpuUsage(s.cpu);
  serverCpuUs += cpu.user + cpu.system;
});
await app.listen({ host: '127.0.0.1', port: 0 });
const url = `http://127.0.0.1:${(app.server.address() as { port: number }).port}`;

async function call(method: string, path: string, body?: unknown, token?: string): Promise<{ status: number; text: string }> {
  const res = await fetch(`${url}${path}`, {
    method, ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    headers: { ...(body === undefined ? {} : { 'content-type': 'application/json' }), ...(token ? { authorization: `Bearer ${token}` } : {}) },
  });
  return { status: res.status, text: await res.text() };
}

const ms = (ns: bigint): number => Number(ns) / 1e6;

/** Server time of one GET /v1/health, as the mean of n. */
async function baseline(n: number): Promise<{ wall: number; cpu: number }> {
  serverNs = 0n;
  serverCpuUs = 0;
  for (let i = 0; i < n; i++) if ((await call('GET', '/v1/health')).status !== 200) throw new Error('health');
  return { wall: ms(serverNs) / n, cpu: serverCpuUs / 1000 / n };
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
  const sessions = new Map<string, string>();
  const steps = { exchange: 0n, report: 0n, context: 0n, done: 0n };
  const wall = process.hrtime.bigint();
  let contextBytes = 0;
  const step = async (name: keyof typeof steps, fn: () => Promise<void>) => {
    const before = serverNs;
    await fn();
    steps[name] += serverNs - before;
  };
  serverNs = 0n;
  serverCpuUs = 0;
  for (const { memberId, secret } of registered.value) {
    await step('exchange', async () => {
      const res = await call('POST', '/v1/context/exchange', { lease: leaseId, member: memberId, secret });
      if (res.status !== 200) throw new Error(`exchange ${res.status} ${res.text}`);
      sessions.set(memberId, JSON.parse(res.text).session);
    });
    const last = Number(memberId.split('-')[1]) % 250;
    await step('report', async () => {
      const res = await call('POST', '/v1/context/report', {
        ip: `10.${Math.floor(last / 250)}.${Math.floor(last / 250)}.${last + 1}`, hostname: memberId,
        hostKey: `ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAI${Buffer.from(memberId).toString('base64').replace(/=/g, '')}${'A'.repeat(30)} root@${memberId}`,
        entries: memberId === 'head-0' ? { 'nfs-export': '10.0.0.1:/srv' } : {},
      }, sessions.get(memberId));
      if (res.status !== 200) throw new Error(`report ${res.status} ${res.text}`);
    });
  }
  for (const [memberId, session] of sessions) {
    await step('context', async () => {
      const res = await call('GET', '/v1/context', undefined, session);
      if (res.status !== 200) throw new Error(`context of ${memberId}: ${res.status} ${res.text.slice(0, 200)}`);
      contextBytes = res.text.length;
    });
    await step('done', async () => {
      const res = await call('POST', '/v1/context/done', { ok: true }, session);
      if (res.status !== 200) throw new Error(`done ${res.status} ${res.text}`);
    });
  }
  const wallMs = ms(process.hrtime.bigint() - wall);
  if (broker.view(leaseId)?.status !== 'complete') throw new Error(`cluster of ${members}: not complete`);
  const total = steps.exchange + steps.report + steps.context + steps.done;
  return {
    members, registerMs, contextBytes,
    serviceMsPerMember: ms(total) / members,
    exchangeMs: ms(steps.exchange) / members, reportMs: ms(steps.report) / members, contextMs: ms(steps.context) / members, doneMs: ms(steps.done) / members,
    wallMsPerMember: wallMs / members,
    serviceCpuMsPerMember: serverCpuUs / 1000 / members,
  };
}

try {
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
    process.stdout.write(`${String(n).padStart(5)} members: ${r.serviceMsPerMember.toFixed(3)} ms service time per member (exchange ${r.exchangeMs.toFixed(3)}, report ${r.reportMs.toFixed(3)}, context ${r.contextMs.toFixed(3)}, done ${r.doneMs.toFixed(3)}); x${r.ratioToHealth.toFixed(1)} of 4 GET /v1/health; CPU ${r.serviceCpuMsPerMember.toFixed(3)} ms (x${r.cpuRatioToHealth.toFixed(1)}); wall ${r.wallMsPerMember.toFixed(2)} ms per member; register ${r.registerMs.toFixed(1)} ms; context ${r.contextBytes} bytes; runs ${r.fastestMsPerMember.toFixed(2)}-${r.slowestMsPerMember.toFixed(2)} ms\n`);
  }
  const at1000 = rows.find((r) => r.members === 1000);
  process.stdout.write(`baseline GET /v1/health: ${health.wall.toFixed(4)} ms service time, ${health.cpu.toFixed(4)} ms CPU${at1000 ? `; at 1,000 members ${at1000.serviceMsPerMember.toFixed(2)} ms per member (aim ≤ ${AIM_MS} ms: ${at1000.serviceMsPerMember <= AIM_MS ? 'met' : 'NOT met'})` : ''}\n`);
  mkdirSync(join(import.meta.dirname, 'results'), { recursive: true });
  writeFileSync(join(import.meta.dirname, 'results', 'broker.json'), `${JSON.stringify({ bench: 'broker', store: 'sqlite', healthServiceMs: health.wall, healthCpuMs: health.cpu, loadAverage: os.loadavg(), aimMsPerMemberAt1000: AIM_MS, clusters: rows, node: process.version, at: new Date().toISOString() }, null, 2)}\n`);
} finally {
  await app.close();
  broker.close();
  await service.close();
  await driver.close();
  await store.close();
  rmSync(dir, { recursive: true, force: true });
}
