// npm run bench:api — lease decisions per second and latency of create and quote, and of a
// change's quote and the change itself (issue 21: extend or shorten a running lease), with 1,000
// nodes and 10,000 live leases, on SQLite and on PostgreSQL. The server runs as `vws serve`; the
// load comes from autocannon in a second process on loopback. The baseline, measured in the
// same run, is GET /v1/health: the HTTP stack with no decision behind it.
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { startServe } from './serve-process.ts';

const root = new URL('..', import.meta.url).pathname;
const TOKEN = 'bench-admin';
const NODES = 1000;
const LIVE = 10_000;
const SECONDS = Number(process.env.BENCH_SECONDS ?? 10);
const CONNECTIONS = 16;
const POSTGRES = process.env.VWS_TEST_POSTGRES ?? 'postgres://postgres@127.0.0.1:5432/test';

/** 10,000 live best-effort leases, 16 requests at a time (not measured); answers the ids of those running. */
async function preload(url: string): Promise<string[]> {
  const body = JSON.stringify({ kind: 'best-effort', nodes: 1, cpu: 1, memoryMiB: 1024, duration: 86400 });
  const headers = { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' };
  const running: string[] = [];
  for (let done = 0; done < LIVE; done += 16) {
    const batch = Array.from({ length: Math.min(16, LIVE - done) }, () => fetch(`${url}/v1/leases`, { method: 'POST', body, headers }));
    for (const res of await Promise.all(batch)) {
      if (res.status !== 201) throw new Error(`preload: ${res.status} ${await res.text()}`);
      const { lease } = (await res.json()) as { lease: { id: string; status: string } };
      if (lease.status === 'running' || lease.status === 'deploying') running.push(lease.id);
    }
  }
  return running;
}

function load(url: string, kind: string, leases = ''): Record<string, unknown> {
  try {
    const out = execFileSync(process.execPath, ['--import', 'tsx', join(root, 'bench/api-load.ts'), url, TOKEN, kind, String(SECONDS), String(CONNECTIONS), leases], { cwd: root, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
    return JSON.parse(out.trim().split('\n').pop()!);
  } catch (e) {
    // The load generator refuses a run in which answers other than the expected status came back.
    const { stdout, stderr } = e as { stdout?: string; stderr?: string };
    throw new Error(`the ${kind} load failed: ${stderr?.trim() || (e as Error).message}\n${stdout?.trim() ?? ''}`, { cause: e });
  }
}

async function runOn(name: string, store?: string): Promise<Record<string, unknown>> {
  const dataDir = mkdtempSync(join(tmpdir(), 'vws-bench-api-'));
  const { proc, url } = await startServe(dataDir, NODES, TOKEN, store);
  try {
    const t0 = Date.now();
    const running = await preload(url);
    const preloadSeconds = (Date.now() - t0) / 1000;
    const ids = join(dataDir, 'running.json');
    writeFileSync(ids, JSON.stringify(running));
    const health = load(url, 'health');
    const quote = load(url, 'quote');
    const quoteChange = load(url, 'quote-change', ids);
    const change = load(url, 'change', ids);
    const create = load(url, 'create');
    const ratio = (x: Record<string, unknown>): number => Math.round(((x.requestsPerSecond as number) / (health.requestsPerSecond as number)) * 1000) / 1000;
    // A change against a new lease's quote in the same run: what renegotiating costs beside negotiating.
    const overQuote = (x: Record<string, unknown>): number => Math.round(((x.requestsPerSecond as number) / (quote.requestsPerSecond as number)) * 1000) / 1000;
    const row = {
      store: name, nodes: NODES, liveLeases: LIVE, runningLeases: running.length, preloadSeconds, health, quote: { ...quote, overHealth: ratio(quote) }, create: { ...create, overHealth: ratio(create) },
      quoteChange: { ...quoteChange, overHealth: ratio(quoteChange), overQuote: overQuote(quoteChange) }, change: { ...change, overHealth: ratio(change), overQuote: overQuote(change) },
    };
    const line = (what: string, x: Record<string, unknown>): string => `${what} ${Math.round(x.requestsPerSecond as number)}/s p50 ${(x.latencyMs as { p50: number }).p50} ms p99 ${(x.latencyMs as { p99: number }).p99} ms`;
    console.log(`${name}: ${line('quote-change', quoteChange)} (x${overQuote(quoteChange)} a new lease's quote); ${line('change', change)} (x${overQuote(change)})`);
    console.log(`${name}: create ${Math.round(create.requestsPerSecond as number)}/s p50 ${(create.latencyMs as { p50: number }).p50} ms p99 ${(create.latencyMs as { p99: number }).p99} ms (x${ratio(create)} health); ` +
      `quote ${Math.round(quote.requestsPerSecond as number)}/s p50 ${(quote.latencyMs as { p50: number }).p50} ms p99 ${(quote.latencyMs as { p99: number }).p99} ms (x${ratio(quote)}); health ${Math.round(health.requestsPerSecond as number)}/s; preload ${preloadSeconds.toFixed(1)} s`);
    return row;
  } finally {
    proc.kill('SIGTERM');
    await new Promise((r) => proc.once('exit', r));
    rmSync(dataDir, { recursive: true, force: true });
  }
}

const schema = `vws_bench_${process.pid}`;
const stores = (process.env.BENCH_STORES ?? 'sqlite,postgres').split(',');
const results = stores.includes('sqlite') ? [await runOn('sqlite')] : [];
if (stores.includes('postgres')) {
  const client = new pg.Client(POSTGRES);
  await client.connect();
  try {
    results.push(await runOn('postgres', `${POSTGRES}?schema=${schema}`));
  } finally {
    await client.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
    await client.end();
  }
}
mkdirSync(join(root, 'bench/results'), { recursive: true });
writeFileSync(join(root, 'bench/results/api.json'), `${JSON.stringify({ aim: 'create >= 2000/s with p99 < 20 ms on SQLite', connections: CONNECTIONS, seconds: SECONDS, results }, null, 2)}\n`);
