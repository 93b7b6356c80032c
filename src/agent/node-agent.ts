// The agent's end of its channel to the service: it dials home, says hello with what the node
// has and runs, and carries out the calls it is sent on its host. A lost connection is dialled
// again with backoff; the VMs run on meanwhile, and the hello after reconnecting tells the
// service what there is now.

import WebSocket from 'ws';
import { DriverError, type VmStatus } from '../drivers/driver.ts';
import { fitText } from '../drivers/qemu/agent-messages.ts';
import { AGENT_PATH, type AgentCalls, type AgentMessage, type AgentOp, type NetworkPlan, type NodeReport, PROTOCOL_VERSION, type ServiceMessage, type Timing, parseFrame } from '../drivers/qemu/protocol.ts';

/** What a node can do: one method per call of the protocol (but `leave`, which is the agent's own). */
export type HostOps = { [K in Exclude<AgentOp, 'leave'>]: (args: AgentCalls[K]['args']) => Promise<AgentCalls[K]['value']> };

export interface AgentHost extends HostOps {
  node(): NodeReport;
  /** Sets up (or finds set up) the node's network as the service planned it. */
  useNetwork(plan: NetworkPlan): Promise<void>;
  onChange(listener: (vm: VmStatus) => void): void;
  onTiming(listener: (t: Timing) => void): void;
}

export interface NodeAgentOptions {
  /** The service's base URL, http(s)://host:port; or its servers' (on a shared store), tried in turn until the leader answers. */
  server: string | readonly string[];
  token: string;
  host: AgentHost;
  /** Trusted CA certificate (PEM) for a service with a self-signed certificate. */
  ca?: string;
  log?: (line: string) => void;
  /** The service lets a pilot's agent go (its `leave` call, answered first): the agent's process should end. */
  onLeave?: () => void;
}

/**
 * Waits between dials while the service is away. A failover (the leader's term running out, the
 * next one replaying the log) keeps every server refusing for some seconds: waits that kept
 * doubling to 10 s through it had agents asleep for seconds after the new leader served. So for
 * the first TAKEOVER_MS of an outage the wait stops growing at 2 s; past that the service is down
 * rather than changing hands, and the agent dials every 10 s.
 */
const BACKOFF_MS = [250, 500, 1000, 2000];
const TAKEOVER_MS = 30_000;
const DOWN_BACKOFF_MS = 10_000;

/**
 * How long to wait before the next round of dials: the `attempt`th since the agent was last
 * welcomed, `awayMs` after it lost the service. A random part (`random` in [0, 1)) takes up to half
 * of the wait off, so that thousands of agents that lost one server in the same instant do not all
 * dial the next at once.
 */
export function redialDelay(attempt: number, awayMs: number, random: number): number {
  const wait = awayMs >= TAKEOVER_MS ? DOWN_BACKOFF_MS : BACKOFF_MS[Math.min(attempt, BACKOFF_MS.length - 1)];
  return Math.round(wait * (1 - random / 2));
}

/**
 * The service pings every 10 s (AgentHub's pingMs): hearing nothing for this long, the agent takes
 * the service for gone (paused, or cut off without a reset) and dials again, so that a new leader
 * is not left without this node.
 */
const SILENCE_MS = 25_000;

export class NodeAgent {
  private socket: WebSocket | null = null;
  private ready: Promise<void> | null = null;
  /** Rounds of the server list failed since the last welcome. */
  private attempt = 0;
  /** Servers dialled in vain in this round. */
  private tried = 0;
  private stopped = false;
  private retry: NodeJS.Timeout | null = null;
  private readonly connectedWaiters: Array<() => void> = [];
  private readonly servers: readonly string[];
  /** Which of the servers to dial next. */
  private next = 0;
  private silence: NodeJS.Timeout | null = null;
  /** When the agent last lost (or first sought) the service: how long it has been away. */
  private awaySince = Date.now();
  /** The batch system is taking the node back: said to the service now and after every welcome until the agent goes. */
  private leavingNode = false;

  constructor(private readonly opts: NodeAgentOptions) {
    this.servers = typeof opts.server === 'string' ? [opts.server] : [...opts.server];
    if (this.servers.length === 0) throw new RangeError('a node agent needs at least one server URL');
    opts.host.onChange((vm) => this.send({ type: 'vm', vm }));
    opts.host.onTiming((timing) => this.send({ type: 'timing', timing }));
  }

  start(): void {
    this.dial();
  }

  /** Resolves once the service has welcomed the agent and the node's network is up. */
  async connected(): Promise<void> {
    if (this.ready && this.socket?.readyState === WebSocket.OPEN) return this.ready;
    await new Promise<void>((resolve) => this.connectedWaiters.push(resolve));
    return this.ready!;
  }

  /**
   * A pilot's batch system takes the node back (the job's signal: its preemption, or its time
   * limit near): the service is told, moves what runs here off the node, then lets the agent go.
   */
  leaving(): void {
    this.leavingNode = true;
    this.send({ type: 'leaving' });
  }

  /** Hangs up (VMs keep running). */
  async stop(): Promise<void> {
    this.stopped = true;
    if (this.retry) clearTimeout(this.retry);
    if (this.silence) clearTimeout(this.silence);
    const socket = this.socket;
    if (socket && socket.readyState !== WebSocket.CLOSED) {
      await new Promise<void>((resolve) => {
        socket.once('close', () => resolve());
        socket.close(1000, 'agent stopping');
      });
    }
  }

  private dial(): void {
    if (this.stopped) return;
    const server = this.servers[this.next % this.servers.length];
    const url = `${server.replace(/^http/, 'ws').replace(/\/$/, '')}${AGENT_PATH}`;
    const socket = new WebSocket(url, { headers: { authorization: `Bearer ${this.opts.token}` }, ca: this.opts.ca, handshakeTimeout: 10_000 });
    this.socket = socket;
    /** Where to dial next has been decided by the server's answer: the error that ending the handshake raises must not move it on. */
    let answered = false;
    socket.on('unexpected-response', (_req, res) => {
      answered = true;
      let body = '';
      res.on('data', (c: Buffer) => (body += c.toString()));
      res.on('end', () => {
        const leader = res.headers['x-vws-leader'];
        const at = typeof leader === 'string' ? this.servers.findIndex((s) => sameServer(s, leader)) : -1;
        if (at >= 0) {
          // A follower: the leader is where to go next. The wait is not reset: in a takeover the
          // follower names the old leader until its term runs out, and dialling a dead server
          // and its follower in turn without a pause would be thousands of dials a second.
          this.next = at;
        } else {
          this.next++;
          this.log(`the service at ${server} refused the agent (${res.statusCode}): ${body}${typeof leader === 'string' ? ` (it names the leader ${leader}, which is not among --server: add it there)` : ''}`);
        }
        // Without this the half-made connection would hang, and the agent would never dial again.
        socket.terminate();
      });
    });
    socket.on('ping', () => this.heardFrom(socket));
    socket.on('open', () => {
      this.heardFrom(socket);
      void this.opts.host.status({}).then((vms) => {
        this.send({ type: 'hello', version: PROTOCOL_VERSION, node: this.opts.host.node(), vms });
      });
    });
    socket.on('message', (data) => {
      this.heardFrom(socket);
      this.heard(data);
    });
    socket.on('error', (e) => {
      // The next server in the list: this one may be down for good.
      if (socket.readyState !== WebSocket.OPEN && !answered) this.next++;
      this.log(`connection to ${url}: ${e.message}`);
    });
    socket.on('close', () => {
      if (this.silence) clearTimeout(this.silence);
      if (this.socket === socket) this.socket = null;
      if (this.stopped) return;
      // The first close since the last welcome: the service was just lost.
      const lost = this.attempt === 0 && this.tried === 0;
      if (lost) this.awaySince = Date.now();
      // The rest of the list is dialled at once, the wait comes once a round of it has failed: a
      // wait after each server had agents that found the old leader dead wait again before the new.
      const roundDone = lost || ++this.tried >= this.servers.length;
      if (roundDone) this.tried = 0;
      const wait = roundDone ? redialDelay(this.attempt++, Date.now() - this.awaySince, Math.random()) : 0;
      this.retry = setTimeout(() => this.dial(), wait);
    });
  }

  /** Restarts the wait for the service's next word on this connection. */
  private heardFrom(socket: WebSocket): void {
    if (this.silence) clearTimeout(this.silence);
    this.silence = setTimeout(() => {
      this.log(`heard nothing from the service for ${SILENCE_MS / 1000} s: dialling again`);
      socket.terminate();
    }, SILENCE_MS);
    this.silence.unref?.();
  }

  private heard(data: unknown): void {
    let m: ServiceMessage;
    try {
      m = parseFrame<ServiceMessage>(data, 'the service');
    } catch (e) {
      this.log((e as Error).message);
      return;
    }
    if (m.type === 'welcome') {
      this.attempt = 0;
      this.tried = 0;
      this.ready = this.opts.host.useNetwork(m.network);
      this.ready.catch((e: Error) => this.log(`network: ${e.message}`));
      for (const w of this.connectedWaiters.splice(0)) w();
      // A service that took over meanwhile must hear it too.
      if (this.leavingNode) this.send({ type: 'leaving' });
    } else if (m.type === 'refused') {
      this.log(`the service refused the agent: ${m.message}`);
    } else if (m.type === 'call') {
      void this.answer(m.id, m.op, m.args);
    }
  }

  private async answer(id: number, op: AgentOp, args: unknown): Promise<void> {
    if (op === 'leave') {
      this.send({ type: 'result', id, ok: true, value: null });
      this.log('the service lets this agent go: its node goes back to the batch system');
      this.opts.onLeave?.();
      return;
    }
    try {
      await this.ready;
      const fn = this.opts.host[op] as ((a: unknown) => Promise<unknown>) | undefined;
      if (typeof fn !== 'function') throw new Error(`this agent does not know the call '${op}': run the same vws version as the service`);
      const value = await fn.call(this.opts.host, args);
      this.send({ type: 'result', id, ok: true, value: value ?? null });
    } catch (e) {
      // Cut to what the service takes: a long or odd message (a guest's console in it) must not get the agent refused.
      this.send({ type: 'result', id, ok: false, error: e instanceof DriverError ? { message: fitText(e.reason), refused: true } : { message: fitText((e as Error).message), refused: false } });
    }
  }

  private send(m: AgentMessage): void {
    if (this.socket?.readyState === WebSocket.OPEN) this.socket.send(JSON.stringify(m));
  }

  private log(line: string): void {
    (this.opts.log ?? ((l: string) => process.stderr.write(`${l}\n`)))(line);
  }
}

function sameServer(a: string, b: string): boolean {
  try {
    return new URL(a).origin === new URL(b).origin;
  } catch {
    return false;
  }
}
