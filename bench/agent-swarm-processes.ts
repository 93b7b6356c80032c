// The processes bench:agents runs and what it reads from them: `vws serve --driver qemu` on a
// PostgreSQL schema, `vws agent-swarm`, autocannon's create load (bench/api-load.ts), the live
// leases put in through the API, and the pool's reconciled state as the server recorded it.

import { type ChildProcess, spawn } from 'node:child_process';
import { appendFileSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import pg from 'pg';
import { freePort } from '../test/support/free-port.ts';

export const root = new URL('..', import.meta.url).pathname;
export const TOKEN = 'bench-admin';

export interface Proc {
  proc: ChildProcess;
  /** Each line printed so far, with when (ms since the epoch) it was read. */
  lines: Array<{ at: number; text: string }>;
  /** Resolves with the time of the first line (from now on) matching `re`. */
  line(re: RegExp, what: string, timeoutMs?: number): Promise<{ at: number; text: string }>;
}

function watch(proc: ChildProcess, name: string): Proc {
  const lines: Proc['lines'] = [];
  const waiters: Array<() => void> = [];
  let partial = '';
  const heard = (chunk: Buffer): void => {
    partial += chunk.toString();
    const parts = partial.split('\n');
    partial = parts.pop()!;
    const at = Date.now();
    for (const text of parts) lines.push({ at, text });
    // BENCH_LOG_DIR=DIR: every line of each process, with the instant it was read, to find where a run's time goes.
    if (process.env.BENCH_LOG_DIR) appendFileSync(join(process.env.BENCH_LOG_DIR, `${name.replace(/\W+/g, '-')}-${proc.pid}.log`), parts.map((t) => `${at} ${t}\n`).join(''));
    for (const w of waiters.splice(0)) w();
  };
  proc.stdout!.on('data', heard);
  proc.stderr!.on('data', heard);
  return {
    proc, lines,
    async line(re, what, timeoutMs = 900_000) {
      const from = lines.length;
      const giveUp = Date.now() + timeoutMs;
      for (;;) {
        const found = lines.slice(from).find((l) => re.test(l.text));
        if (found) return found;
        if (proc.exitCode !== null) throw new Error(`${name} exited (${proc.exitCode}) before ${what}:\n${lines.slice(-20).map((l) => l.text).join('\n')}`);
        if (Date.now() > giveUp) throw new Error(`gave up waiting for ${what}`);
        await new Promise<void>((resolve) => {
          waiters.push(resolve);
          setTimeout(resolve, 1000).unref();
        });
      }
    },
  };
}

export interface Server extends Proc {
  url: string;
  port: number;
}

/** `vws serve --driver qemu` on `store`, at `port` (a new one unless given, for a restart); resolves once it serves. */
/** `name`: one of several servers on the store; it may start as a follower (`leads: false`). */
export async function startServer(dataDir: string, store: string, port?: number, opts: { name?: string; leads?: boolean } = {}): Promise<Server> {
  const p = port ?? (await freePort());
  // A /16 VM network: the default /24 holds 244 VMs, and the bench runs tens of thousands.
  const args = [join(root, 'bin/vws.js'), 'serve', '--driver', 'qemu', '--vm-network', '10.64.0.0/16', '--data', dataDir, '--store', store, '--listen', `127.0.0.1:${p}`, ...(opts.name ? ['--name', opts.name] : [])];
  // BENCH_CPU_PROF=DIR: the server writes a CPU profile there when it exits (not when killed -9).
  const prof = process.env.BENCH_CPU_PROF ? ['--cpu-prof', '--cpu-prof-dir', process.env.BENCH_CPU_PROF] : [];
  const proc = spawn(process.execPath, [...prof, ...args], { cwd: root, env: { ...process.env, VWS_BOOTSTRAP_TOKEN: TOKEN }, stdio: ['ignore', 'pipe', 'pipe'] });
  const server = { ...watch(proc, 'vws serve'), url: `http://127.0.0.1:${p}`, port: p };
  if (opts.leads === false) await server.line(/following/, 'vws serve to follow', 300_000);
  else await server.line(/serving http:\/\//, 'vws serve to serve', 300_000);
  return server;
}

export function startSwarm(url: string, nodes: number, cpu: number, memoryMiB: number): Proc {
  const args = [join(root, 'bin/vws.js'), 'agent-swarm', '--server', url, '--token', TOKEN, '--nodes', String(nodes), '--cpu', String(cpu), '--memory', String(memoryMiB)];
  return watch(spawn(process.execPath, args, { cwd: root, stdio: ['ignore', 'pipe', 'pipe'] }), 'vws agent-swarm');
}

export async function stop(p: Proc, signal: NodeJS.Signals = 'SIGTERM'): Promise<void> {
  if (p.proc.exitCode !== null || p.proc.signalCode !== null) return;
  const exited = new Promise((resolve) => p.proc.once('exit', resolve));
  p.proc.kill(signal);
  await exited;
}

/** Resident memory of a process, MiB. */
export function rssMiB(pid: number): number {
  const kb = Number(/^VmRSS:\s+(\d+) kB/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1]);
  return Math.round((kb / 1024) * 10) / 10;
}

/** CPU seconds a process has used so far. */
function cpuSeconds(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').replace(/^.*\) /, '').split(' ');
  // utime and stime, fields 14 and 15 of stat, in clock ticks (100 per second on Linux).
  return (Number(fields[11]) + Number(fields[12])) / 100;
}

/**
 * Resolves once the process has used under a tenth of a CPU for two seconds running: after a
 * swarm joins, the server works through the hellos' reconciliations for a while, and a baseline
 * measured meanwhile would measure those.
 */
export async function quiet(pid: number): Promise<number> {
  const t0 = Date.now();
  let calm = 0;
  let last = cpuSeconds(pid);
  while (calm < 2) {
    await new Promise((r) => setTimeout(r, 1000));
    const now = cpuSeconds(pid);
    calm = now - last < 0.1 ? calm + 1 : 0;
    last = now;
  }
  return (Date.now() - t0) / 1000;
}

/** `count` running one-node leases put in through the API, `concurrency` at a time; their creates per second. */
export async function fill(url: string, count: number, concurrency = 32): Promise<{ seconds: number; perSecond: number }> {
  const body = JSON.stringify({ kind: 'best-effort', nodes: 1, cpu: 1, memoryMiB: 1024, duration: 86400 });
  const headers = { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' };
  let next = 0;
  const t0 = Date.now();
  const worker = async (): Promise<void> => {
    while (next < count) {
      next++;
      const res = await fetch(`${url}/v1/leases`, { method: 'POST', body, headers });
      if (res.status !== 201) throw new Error(`filling: ${res.status} ${await res.text()}`);
      const lease = ((await res.json()) as { lease: { status: string } }).lease;
      // Deploying is started: its VM is on its way. Anything else (queued) means the pool is full.
      if (lease.status !== 'running' && lease.status !== 'deploying') throw new Error(`filling: a lease was ${lease.status}, not started: the pool is too small for the live leases`);
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  const seconds = (Date.now() - t0) / 1000;
  return { seconds, perSecond: Math.round(count / seconds) };
}

/** autocannon's create load (exact one-node leases in the future: a decision each, no VM), in its own process. */
export function createLoad(url: string, seconds: number, connections = 16): Promise<Record<string, unknown> & { requestsPerSecond: number; latencyMs: { p50: number; p99: number } }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', join(root, 'bench/api-load.ts'), url, TOKEN, 'create', String(seconds), String(connections)], { cwd: root, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (c: Buffer) => (out += c.toString()));
    child.stderr.on('data', (c: Buffer) => (err += c.toString()));
    child.once('exit', (code) => (code === 0 ? resolve(JSON.parse(out.trim().split('\n').pop()!)) : reject(new Error(`the create load failed (${code}): ${err.trim()}\n${out.trim()}`))));
  });
}

export interface PoolState {
  /** VMs the running leases want (one per node of each). */
  wanted: number;
  /** Of those, workspaces recorded running on the lease's own node, heard of at or after `since`. */
  reconciled: number;
  /** Workspaces shown live for a lease that is not running. */
  strays: number;
}

/**
 * The pool as the server recorded it, read from its store: the server exposes each lease's
 * workspaces (GET /v1/leases/{id}/workspaces) but no figure over all of them, and tens of thousands
 * of GETs per look would be the load measured. Read-only.
 */
export async function poolState(db: pg.Client, since: number): Promise<PoolState> {
  const r = await db.query(`
    SELECT
      (SELECT COALESCE(SUM(json_array_length(nodes::json)), 0) FROM leases WHERE status = 'running') AS wanted,
      (SELECT COUNT(*) FROM workspaces w JOIN leases l ON l.id = w.lease_id
        WHERE l.status = 'running' AND w.status = 'running' AND w.node = (l.nodes::json ->> w.idx) AND w.updated_at >= $1) AS reconciled,
      (SELECT COUNT(*) FROM workspaces w JOIN leases l ON l.id = w.lease_id
        WHERE l.status <> 'running' AND w.status NOT IN ('stopped', 'failed')) AS strays`, [since]);
  const row = r.rows[0] as Record<string, string>;
  return { wanted: Number(row.wanted), reconciled: Number(row.reconciled), strays: Number(row.strays) };
}
