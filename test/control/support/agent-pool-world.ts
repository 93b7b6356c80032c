// A service whose nodes are node agents on real loopback WebSockets: an AgentPool, the
// LeaseService on a SQLite file (or a PostgreSQL schema of its own) and a clock the test moves, the REST API listening on a port,
// and agents whose hosts keep their VMs in memory (the QEMU host has its own tests; what these
// tests are about is what the service makes of its agents).

import { mkdtempSync, rmSync } from 'node:fs';
import { type IncomingMessage, request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { bootstrapAdmin } from '../../../src/api/auth.ts';
import { buildServer } from '../../../src/api/server.ts';
import { type AgentHost, NodeAgent } from '../../../src/agent/node-agent.ts';
import type { NetworkPlan, NodeReport, Timing, Workload } from '../../../src/drivers/qemu/protocol.ts';
import { AgentPool } from '../../../src/drivers/qemu/agent-pool.ts';
import { ManualClock } from '../../../src/control/clock.ts';
import { DriverError, type VmStatus } from '../../../src/drivers/driver.ts';
import { LeaseService } from '../../../src/control/lease-service.ts';
import { configWith } from '../../../src/core/config.ts';
import { openTestStore, type StoreKind } from '../../support/test-stores.ts';
import type { Store } from '../../../src/store/store.ts';
import { waitFor } from '../../support/wait.ts';

export const T0 = 1_800_000_000;

/** A node whose VMs live in a map: each call does the least that answers it. */
export class MemoryHost implements AgentHost {
  readonly vms = new Map<string, VmStatus>();
  private timed: (t: Timing) => void = () => undefined;
  constructor(readonly name: string, readonly size: { cpu: number; memoryMiB: number } = { cpu: 1, memoryMiB: 1024 }) {}
  node(): NodeReport {
    return { name: this.name, ...this.size, diskMiB: 100_000, transferAddress: '127.0.0.1', migrationAddress: '127.0.0.1' };
  }
  async useNetwork(_plan: NetworkPlan): Promise<void> {}
  /** Its VMs change only when told to: there is nothing to report by itself. */
  onChange(_l: (vm: VmStatus) => void): void {}
  onTiming(l: (t: Timing) => void): void {
    this.timed = l;
  }
  /** What the agent tells the service an operation took, as the QEMU host does after each one. */
  report(t: Timing): void {
    this.timed(t);
  }
  async prepareImages(): Promise<void> {}
  async start(w: Workload): Promise<VmStatus> {
    const vm: VmStatus = { id: w.vm.id, node: this.name, state: 'running', ip: w.ip, console: null };
    this.vms.set(vm.id, vm);
    return vm;
  }
  async stop({ id }: { id: string }): Promise<void> {
    this.vms.delete(id);
  }
  async suspend({ id }: { id: string }): Promise<VmStatus> {
    const vm = this.vms.get(id);
    if (vm?.state !== 'running') throw new DriverError(id, `is ${vm?.state ?? 'unknown'}: only a running VM can be suspended`);
    const suspended = { ...vm, state: 'suspended' as const, ip: null };
    this.vms.set(id, suspended);
    return suspended;
  }
  async resume({ id }: { id: string }): Promise<VmStatus> {
    const vm = this.vms.get(id);
    if (vm?.state !== 'suspended') throw new DriverError(id, `is ${vm?.state ?? 'unknown'}: only a suspended VM can be resumed`);
    const running = { ...vm, state: 'running' as const };
    this.vms.set(id, running);
    return running;
  }
  async status(): Promise<VmStatus[]> {
    return [...this.vms.values()];
  }
  private unused = async (): Promise<never> => {
    throw new Error(`node '${this.name}' does not migrate in these tests`);
  };
  receive = this.unused;
  send = this.unused;
  received = this.unused;
  incoming = this.unused;
  migrateLive = this.unused;
  arrived = this.unused;
  abandon = this.unused;
  workload = this.unused;
  clusterPeers = this.unused;
  park = this.unused;
  unpark = this.unused;
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- JSON from the API, read loosely: the tests' asserts check its shape
type Json = any;

export interface PoolWorld {
  store: Store;
  pool: AgentPool;
  service: LeaseService;
  clock: ManualClock;
  app: FastifyInstance;
  /** http://127.0.0.1:PORT */
  server: string;
  admin: string;
  logs: string[];
  /** Starts an agent for the host (a new one each time: a stopped agent stays stopped). */
  agent(host: MemoryHost): NodeAgent;
  api(path: string): Promise<Json>;
  close(): Promise<void>;
}

const ADMIN_TOKEN = 'vws_test-admin-token';

/** `dir`: a data directory to open again (the caller removes it); a new one by default. `store`: SQLite by default. */
export async function poolWorld(opts: { graceMs?: number; dir?: string; store?: StoreKind } = {}): Promise<PoolWorld> {
  const dir = opts.dir ?? mkdtempSync(join(tmpdir(), 'vws-agent-pool-'));
  const { store, drop } = await openTestStore(opts.store ?? 'sqlite', dir);
  await bootstrapAdmin(store, T0, ADMIN_TOKEN);
  const admin = ADMIN_TOKEN;
  const logs: string[] = [];
  const pool = new AgentPool({ store, dir: join(dir, 'agents'), network: '10.77.0.0/24', graceMs: opts.graceMs ?? 60_000, callTimeoutMs: 10_000, log: (l) => logs.push(l) });
  const clock = new ManualClock(T0);
  const service = await LeaseService.open({ store, driver: pool.driver, clock, config: configWith({}) });
  pool.bind(service.pool);
  const app = buildServer({ service, store, version: 'test', blobDir: join(dir, 'blobs'), now: () => clock.now(), agents: pool.hub });
  await app.listen({ host: '127.0.0.1', port: 0 });
  const server = `http://127.0.0.1:${(app.server.address() as { port: number }).port}`;
  const agents: NodeAgent[] = [];
  return {
    store, pool, service, clock, app, server, admin, logs,
    agent(host) {
      const a = new NodeAgent({ server, token: admin, host, log: (l) => logs.push(`${host.name}: ${l}`) });
      agents.push(a);
      a.start();
      return a;
    },
    async api(path) {
      const res = await fetch(`${server}${path}`, { headers: { authorization: `Bearer ${admin}` } });
      if (!res.ok) throw new Error(`GET ${path}: ${res.status} ${await res.text()}`);
      return res.json();
    },
    async close() {
      await Promise.all(agents.map((a) => a.stop()));
      await app.close();
      await service.close();
      await pool.driver.close();
      await store.close();
      await drop();
      if (!opts.dir) rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** Polls until probe gives a value (the service works in the background); no time limit is asserted. */
export const until = <T>(what: string, probe: () => T | undefined | Promise<T | undefined>): Promise<T> => waitFor(what, probe, { everyMs: 10 });

/** Server-Sent Events read from GET /v1/events as a client would, from now on. */
export async function watchEvents(server: string, token: string): Promise<{ events: Array<{ type: string; data: Json }>; stop(): void }> {
  const events: Array<{ type: string; data: Json }> = [];
  let buffer = '';
  const req = request(`${server}/v1/events?after=now`, { headers: { authorization: `Bearer ${token}` } });
  const res = await new Promise<IncomingMessage>((resolve, reject) => {
    req.once('response', resolve);
    req.once('error', reject);
    req.end();
  });
  if (res.statusCode !== 200) throw new Error(`GET /v1/events: ${res.statusCode}`);
  res.setEncoding('utf8');
  res.on('data', (chunk: string) => {
    buffer += chunk;
    for (let end = buffer.indexOf('\n\n'); end >= 0; end = buffer.indexOf('\n\n')) {
      const frame = buffer.slice(0, end);
      buffer = buffer.slice(end + 2);
      const type = /^event: (.*)$/m.exec(frame)?.[1];
      const data = /^data: (.*)$/m.exec(frame)?.[1];
      if (type && data) events.push({ type, data: JSON.parse(data) });
    }
  });
  res.on('error', () => undefined);
  // Destroying the request closes its socket, so that the server sees the client go.
  return { events, stop: () => req.destroy() };
}
