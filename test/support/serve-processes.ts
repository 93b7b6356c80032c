// `vws serve` processes on one store, for the tests of several servers (failover, follower reads):
// started, asked who leads, and called as a client would.

import { type ChildProcess, spawn } from 'node:child_process';
import { join } from 'node:path';
import { bin, root } from './vws-bin.ts';

export interface Server { name: string; port: number; url: string; child: ChildProcess; output: string; exited: Promise<void> }

export interface ServeOptions {
  store: string;
  /** One --data for all: a site's servers share image content and the simulated VMs' table. */
  dir: string;
  token: string;
  /** Simulated nodes (--nodes), 8 unless given; 0: none (nodes join as agents). */
  nodes?: number;
  extra?: string[];
}

export function startServer(o: ServeOptions, name: string, port: number): Server {
  const child = spawn(process.execPath, [bin, 'serve', '--store', o.store, '--data', join(o.dir, 'data'), '--listen', `127.0.0.1:${port}`, '--name', name, ...(o.nodes === 0 ? [] : ['--nodes', String(o.nodes ?? 8)]), ...(o.extra ?? [])], {
    cwd: root, env: { ...process.env, VWS_BOOTSTRAP_TOKEN: o.token }, stdio: ['ignore', 'pipe', 'pipe'],
  });
  const s: Server = { name, port, url: `http://127.0.0.1:${port}`, child, output: '', exited: new Promise((r) => child.once('exit', () => r())) };
  child.stdout!.on('data', (c: Buffer) => (s.output += c.toString()));
  child.stderr!.on('data', (c: Buffer) => (s.output += c.toString()));
  return s;
}

export interface Health { role?: string; server?: string; leader?: { name: string; epoch: number } | null }

/** What the server says of itself; null when it does not answer (down, or not serving yet). */
export async function health(s: Server): Promise<Health | null> {
  try {
    const res = await fetch(`${s.url}/v1/health`, { signal: AbortSignal.timeout(2000) });
    return res.ok ? ((await res.json()) as Health) : null;
  } catch {
    return null;
  }
}

/** The server that says it leads, once one does. */
export async function leaderOf(servers: Server[], notEpochBelow = 0, timeoutMs = 30_000): Promise<{ server: Server; epoch: number }> {
  const until = Date.now() + timeoutMs;
  while (Date.now() < until) {
    for (const s of servers) {
      const h = await health(s);
      if (h?.role === 'leader' && h.leader && h.leader.epoch >= notEpochBelow) return { server: s, epoch: h.leader.epoch };
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`no leader within ${timeoutMs} ms:\n${servers.map((s) => `${s.name}: ${s.output.slice(-800)}`).join('\n')}`);
}

/** The servers that say they follow `leader`, once all the others do. */
export async function followersOf(servers: Server[], leader: Server, timeoutMs = 30_000): Promise<Server[]> {
  const until = Date.now() + timeoutMs;
  const others = servers.filter((s) => s !== leader);
  while (Date.now() < until) {
    const said = await Promise.all(others.map(health));
    if (said.every((h) => h?.role === 'follower' && h.leader?.name === leader.name)) return others;
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`not every server follows ${leader.name} within ${timeoutMs} ms`);
}

export interface Answer {
  status: number;
  headers: Headers;
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- JSON answers are checked by the assertions that read them
  body: any;
}

export async function call(token: string | null, url: string, method: string, path: string, body?: unknown, headers: Record<string, string> = {}): Promise<Answer> {
  const res = await fetch(`${url}${path}`, {
    method, signal: AbortSignal.timeout(15_000),
    headers: { ...(token ? { authorization: `Bearer ${token}` } : {}), ...(body === undefined ? {} : { 'content-type': 'application/json' }), ...headers },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  const text = await res.text();
  return { status: res.status, headers: res.headers, body: text && res.headers.get('content-type')?.startsWith('application/json') ? JSON.parse(text) : text };
}

export async function stopServers(servers: Server[]): Promise<void> {
  for (const s of servers) {
    s.child.kill('SIGCONT');
    s.child.kill('SIGKILL');
    await s.exited;
  }
}

export type Created = { accepted: string } | { refused: string };

/**
 * Creates a lease under an Idempotency-Key, sending it round `servers` (read at each attempt: a
 * test may replace a killed one) until it has a definite answer: accepted (201, or 200 for a key
 * seen before) or refused (409). 503 (nothing done), 502 (done or not: the leader went away
 * mid-answer) and a failed connection send the same key again at the next server, which never
 * makes a second lease; `retried` is told why each time. Any other answer fails the test.
 */
export async function createUntilAnswered(token: string, servers: readonly Server[], first: number, key: string, request: unknown, o: { giveUpMs: number; retried: (why: string) => void; seen: () => string }): Promise<Created> {
  const giveUp = Date.now() + o.giveUpMs;
  for (let attempt = 0; ; attempt++) {
    const s = servers[(first + attempt) % servers.length];
    if (Date.now() >= giveUp) throw new Error(`create ${key} had no definite answer in ${o.giveUpMs / 1000} s:\n${o.seen()}`);
    let why: string;
    try {
      const r = await call(token, s.url, 'POST', '/v1/leases', request, { 'idempotency-key': key });
      if (r.status === 201 || r.status === 200) return { accepted: r.body.lease.id as string };
      if (r.status === 409) return { refused: r.body.code as string };
      if (r.status !== 502 && r.status !== 503) throw new Error(`create ${key} at ${s.name}: ${r.status} ${JSON.stringify(r.body)}\n${o.seen()}`);
      why = `${r.status} ${r.body?.code ?? JSON.stringify(r.body).slice(0, 200)}`;
    } catch (e) {
      if ((e as Error).message.startsWith(`create ${key}`)) throw e;
      why = (e as Error).name;
    }
    o.retried(why);
    await new Promise((r) => setTimeout(r, 100));
  }
}
