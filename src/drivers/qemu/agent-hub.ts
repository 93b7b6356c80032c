// The service's end of the node agents' channels: one WebSocket per node, opened by the agent.
// Calls go out with an id and wait for their result; what an agent reports by itself (a VM that
// changed, how long an operation took) goes to listeners. An agent that reconnects replaces its
// old channel; one that stays away is reported once its grace period is over. Every frame is
// checked against the agents' schemas (agent-messages.ts) before it is acted on: an agent that
// sends what they refuse is disconnected alone, and the service and the other agents go on.

import type { RawData, WebSocket } from 'ws';
import type { VmStatus } from '../driver.ts';
import { DriverError } from '../driver.ts';
import { AgentMessageError, readAgentMessage, readHello, readResultValue } from './agent-messages.ts';
import type { AgentCalls, AgentMessage, AgentOp, NetworkPlan, NodeReport, ServiceMessage, Timing } from './protocol.ts';

export interface HubListener {
  /** An agent said hello with what it runs; the answer is its network plan. Throwing refuses the agent. */
  hello(node: NodeReport, vms: VmStatus[]): Promise<NetworkPlan>;
  vm(node: string, vm: VmStatus): void;
  timing(node: string, timing: Timing): void;
  /** The agent has been away for longer than the grace period. */
  away(node: string): void;
  /** A pilot's agent says its batch system takes the node back. */
  leaving?(node: string): void;
}

export interface HubOptions {
  /** How long an agent may be away before its node is reported. */
  graceMs: number;
  /** How long a call may take before it is given up on (a stuck node must not stall the service). */
  callTimeoutMs: number;
  helloTimeoutMs?: number;
  pingMs?: number;
  /** Where agents refused or disconnected for what they sent are told of. */
  log?: (line: string) => void;
}

interface Pending {
  op: AgentOp;
  vmId: string;
  resolve: (v: unknown) => void;
  reject: (e: Error) => void;
  timer: NodeJS.Timeout;
}

interface Channel {
  socket: WebSocket;
  node: NodeReport;
  pending: Map<number, Pending>;
  alive: boolean;
}

/** A call the agent could not make because of the VM's state (as opposed to the node failing). */
export class AgentRefusal extends DriverError {}

export class AgentHub {
  private readonly channels = new Map<string, Channel>();
  private readonly awayTimers = new Map<string, NodeJS.Timeout>();
  private nextId = 1;
  private readonly pinger: NodeJS.Timeout;
  private closed = false;

  constructor(private readonly opts: HubOptions, private readonly listener: HubListener) {
    this.pinger = setInterval(() => this.ping(), opts.pingMs ?? 10_000);
    this.pinger.unref();
  }

  connectedNodes(): string[] {
    return [...this.channels.keys()];
  }

  isConnected(node: string): boolean {
    return this.channels.has(node);
  }

  /** What the node's agent said of it in its hello, while it is connected. */
  report(node: string): NodeReport | undefined {
    return this.channels.get(node)?.node;
  }

  /**
   * Nodes whose agents should dial in (the pool's, when the service starts): each that has not
   * said hello by the end of its grace period is reported away, as if its channel had just gone.
   * Otherwise a node that died while the service was down would be waited for forever.
   */
  expect(nodes: readonly string[]): void {
    for (const name of nodes) if (!this.channels.has(name) && !this.awayTimers.has(name)) this.startGrace(name);
  }

  /** Takes a new agent connection (already authenticated); `peer` says who it is in the log. */
  attach(socket: WebSocket, peer = 'an agent'): void {
    const helloTimer = setTimeout(() => socket.close(4000, 'no hello'), this.opts.helloTimeoutMs ?? 10_000);
    // An agent that goes before its hello (or whose first frame the socket refused) leaves no timer behind.
    socket.once('close', () => clearTimeout(helloTimer));
    socket.once('message', (data, isBinary) => {
      clearTimeout(helloTimer);
      void this.greet(socket, data, isBinary).catch((e: Error) => {
        const invalid = e instanceof AgentMessageError;
        this.log(`refused ${peer} at hello: ${invalid ? `it sent ${e.message}` : e.message}`);
        this.send(socket, { type: 'refused', message: invalid ? `the service refused the hello: ${e.message}` : e.message });
        socket.close(4001, closeReason(invalid ? `invalid hello: ${e.message}` : e.message));
      });
    });
    socket.on('error', () => socket.terminate());
  }

  call<K extends AgentOp>(node: string, op: K, args: AgentCalls[K]['args'], vmId = node): Promise<AgentCalls[K]['value']> {
    const channel = this.channels.get(node);
    if (!channel) return Promise.reject(new DriverError(vmId, `the agent of node '${node}' is not connected`));
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        channel.pending.delete(id);
        reject(new DriverError(vmId, `node '${node}' did not answer ${op} within ${this.opts.callTimeoutMs} ms`));
      }, this.opts.callTimeoutMs);
      channel.pending.set(id, { op, vmId, resolve: resolve as (v: unknown) => void, reject, timer });
      this.send(channel.socket, { type: 'call', id, op, args });
    });
  }

  close(): void {
    this.closed = true;
    clearInterval(this.pinger);
    for (const t of this.awayTimers.values()) clearTimeout(t);
    for (const [node, channel] of this.channels) {
      this.fail(channel, `the service is closing`);
      channel.socket.close(1001, 'service closing');
      this.channels.delete(node);
    }
  }

  private async greet(socket: WebSocket, data: RawData, isBinary: boolean): Promise<void> {
    const hello = readHello(data, isBinary);
    const plan = await this.listener.hello(hello.node, hello.vms);
    const name = hello.node.name;
    if (socket.readyState !== socket.OPEN) {
      // It hung up while its hello was heard: it is away, as if its channel had just gone.
      if (!this.channels.has(name) && !this.awayTimers.has(name)) this.startGrace(name);
      return;
    }
    const old = this.channels.get(name);
    if (old) {
      this.fail(old, `the agent of node '${name}' reconnected`);
      old.socket.close(4002, 'replaced by a new connection');
    }
    clearTimeout(this.awayTimers.get(name));
    this.awayTimers.delete(name);
    const channel: Channel = { socket, node: hello.node, pending: new Map(), alive: true };
    this.channels.set(name, channel);
    socket.on('message', (frame, isBinary) => this.heard(channel, frame, isBinary));
    socket.on('pong', () => (channel.alive = true));
    socket.on('close', () => this.lost(channel));
    this.send(socket, { type: 'welcome', network: plan });
  }

  /** Never throws: it runs in the socket's event handler. */
  private heard(channel: Channel, frame: RawData, isBinary: boolean): void {
    // A channel disconnected or replaced: what it still sends is not heard.
    if (this.channels.get(channel.node.name) !== channel) return;
    let m: AgentMessage;
    try {
      m = readAgentMessage(frame, isBinary);
      if (m.type === 'hello') throw new AgentMessageError('a second hello: an agent says hello once per connection');
      if (m.type === 'result') this.answered(channel, m);
    } catch (e) {
      if (e instanceof AgentMessageError) this.expel(channel, e.message);
      else this.log(`internal: the answer of node '${channel.node.name}' was not taken: ${(e as Error).message}`);
      return;
    }
    try {
      if (m.type === 'vm') this.listener.vm(channel.node.name, m.vm);
      else if (m.type === 'timing') this.listener.timing(channel.node.name, m.timing);
      else if (m.type === 'leaving') this.listener.leaving?.(channel.node.name);
    } catch (e) {
      this.log(`internal: the ${m.type} report of node '${channel.node.name}' was not taken: ${(e as Error).message}`);
    }
  }

  /** An answer to a call; one to a call given up on (timed out, or its channel replaced) is dropped. */
  private answered(channel: Channel, m: Extract<AgentMessage, { type: 'result' }>): void {
    const p = channel.pending.get(m.id);
    if (!p) return;
    // Checked before the call is settled: an invalid answer fails it with the reason, with the rest of the channel's.
    const value = m.ok ? readResultValue(p.op, m.value) : undefined;
    channel.pending.delete(m.id);
    clearTimeout(p.timer);
    if (m.ok) p.resolve(value);
    else p.reject(m.error.refused ? new AgentRefusal(p.vmId, m.error.message) : new Error(`node '${channel.node.name}' failed ${p.op}: ${m.error.message}`));
  }

  /** Disconnects an agent that sent what the service does not take: its calls fail, its node is as if it had gone away. */
  private expel(channel: Channel, why: string): void {
    const name = channel.node.name;
    const message = `the agent of node '${name}' sent ${why}; it is disconnected`;
    this.log(message);
    this.fail(channel, message);
    this.send(channel.socket, { type: 'refused', message });
    channel.socket.close(4003, closeReason(`invalid message: ${why}`));
    this.lost(channel);
  }

  private lost(channel: Channel): void {
    const name = channel.node.name;
    if (this.channels.get(name) !== channel) return;
    this.channels.delete(name);
    this.fail(channel, `the agent of node '${name}' went away`);
    this.startGrace(name);
  }

  private startGrace(name: string): void {
    if (this.closed) return;
    const timer = setTimeout(() => {
      this.awayTimers.delete(name);
      if (!this.channels.has(name)) this.listener.away(name);
    }, this.opts.graceMs);
    timer.unref();
    this.awayTimers.set(name, timer);
  }

  private fail(channel: Channel, why: string): void {
    for (const p of channel.pending.values()) {
      clearTimeout(p.timer);
      p.reject(new DriverError(p.vmId, `${why} during ${p.op}`));
    }
    channel.pending.clear();
  }

  private ping(): void {
    for (const channel of this.channels.values()) {
      // Two pings unanswered: the connection is dead even if TCP has not said so.
      if (!channel.alive) {
        channel.socket.terminate();
        continue;
      }
      channel.alive = false;
      channel.socket.ping();
    }
  }

  private send(socket: WebSocket, m: ServiceMessage): void {
    if (socket.readyState === socket.OPEN) socket.send(JSON.stringify(m));
  }

  private log(line: string): void {
    (this.opts.log ?? ((l: string) => process.stderr.write(`${l}\n`)))(line);
  }
}

/** A close frame's reason holds at most 123 bytes of UTF-8 (a longer one makes ws throw). */
export function closeReason(text: string): string {
  let reason = text.slice(0, 123);
  while (Buffer.byteLength(reason) > 123) reason = reason.slice(0, -1);
  return reason;
}
