// An agent that says whatever a test makes it say: a bare `ws` client on the agent channel with
// an administrator's token, for agents that are broken or hostile. It keeps what the service
// sends it and how the service closed it.

import { once } from 'node:events';
import WebSocket from 'ws';
import { AGENT_PATH } from '../../../src/drivers/qemu/protocol.ts';

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- frames from the service, read loosely: the tests' asserts check them
type Json = any;

export interface Closed {
  code: number;
  reason: string;
}

export class RawAgent {
  readonly heard: Json[] = [];
  /** Resolves when the connection closes, with the service's code and reason. */
  readonly closed: Promise<Closed>;
  private waiters: Array<() => void> = [];

  private constructor(readonly socket: WebSocket) {
    socket.on('message', (data) => {
      this.heard.push(JSON.parse((data as Buffer).toString('utf8')));
      for (const w of this.waiters.splice(0)) w();
    });
    this.closed = once(socket, 'close').then(([code, reason]) => ({ code: code as number, reason: String(reason) }));
    socket.on('error', () => undefined);
  }

  static async dial(server: string, token: string): Promise<RawAgent> {
    const socket = new WebSocket(`${server.replace(/^http/, 'ws')}${AGENT_PATH}`, { headers: { authorization: `Bearer ${token}` } });
    const agent = new RawAgent(socket);
    await once(socket, 'open');
    return agent;
  }

  /** Sends a frame as it is: a string as a text frame, a Buffer as a binary one, anything else as JSON text. */
  send(frame: unknown): void {
    if (Buffer.isBuffer(frame)) this.socket.send(frame, { binary: true });
    else this.socket.send(typeof frame === 'string' ? frame : JSON.stringify(frame));
  }

  /** The first frame from the service that `match` accepts, once it has come; undefined if the connection closed first. */
  async next(match: (m: Json) => boolean): Promise<Json> {
    for (;;) {
      const found = this.heard.find(match);
      if (found || this.socket.readyState !== WebSocket.OPEN) return found;
      await Promise.race([new Promise<void>((resolve) => this.waiters.push(resolve)), this.closed]);
    }
  }

  /** What the service said when it refused the agent, if it did. */
  refusal(): string | undefined {
    return this.heard.find((m) => m.type === 'refused')?.message;
  }

  async close(): Promise<void> {
    if (this.socket.readyState !== WebSocket.CLOSED) this.socket.close(1000, 'done');
    await this.closed;
  }
}

/** A hello that the service takes, for a node of this name; `change` alters it first. */
export function helloOf(name: string, change: (hello: Json) => void = () => undefined): Json {
  const hello = { type: 'hello', version: 1, node: { name, cpu: 2, memoryMiB: 2048, diskMiB: 10_000, transferAddress: '127.0.0.1', migrationAddress: '127.0.0.1', depot: '0123456789abcdef0123456789abcdef' }, vms: [] };
  change(hello);
  return hello;
}
