// A QMP connection: QEMU's JSON protocol over its unix socket. One command at a time is enough
// for an agent, but replies are still matched by id so that an event arriving between a command
// and its answer is never taken for the answer.

import { createConnection, type Socket } from 'node:net';

export interface QmpEvent {
  event: string;
  data?: Record<string, unknown>;
}

export class QmpError extends Error {
  constructor(readonly command: string, readonly errorClass: string, desc: string) {
    super(`QMP ${command} failed (${errorClass}): ${desc}`);
  }
}

type Pending = { command: string; resolve: (v: unknown) => void; reject: (e: Error) => void };

export class Qmp {
  private buffer = '';
  private nextId = 1;
  private readonly pending = new Map<string, Pending>();
  private readonly eventListeners: Array<(e: QmpEvent) => void> = [];
  private readonly closeListeners: Array<() => void> = [];
  private closed = false;

  private constructor(private readonly socket: Socket) {
    socket.setEncoding('utf8');
    socket.on('data', (chunk: string) => this.read(chunk));
    socket.on('error', () => socket.destroy());
    socket.on('close', () => {
      this.closed = true;
      for (const p of this.pending.values()) p.reject(new Error(`QMP connection closed during ${p.command}: QEMU has exited`));
      this.pending.clear();
      for (const l of this.closeListeners) l();
    });
  }

  /** Connects, reads the greeting and leaves capability negotiation mode. */
  static async connect(path: string, timeoutMs = 10_000): Promise<Qmp> {
    const socket = await new Promise<Socket>((resolve, reject) => {
      const s = createConnection(path);
      const timer = setTimeout(() => {
        s.destroy();
        reject(new Error(`QMP socket ${path} did not answer in ${timeoutMs} ms`));
      }, timeoutMs);
      s.once('connect', () => {
        clearTimeout(timer);
        resolve(s);
      });
      s.once('error', (e) => {
        clearTimeout(timer);
        reject(new Error(`cannot connect to QMP socket ${path}: ${e.message}`));
      });
    });
    const qmp = new Qmp(socket);
    await qmp.greeting(timeoutMs);
    await qmp.execute('qmp_capabilities');
    return qmp;
  }

  get isClosed(): boolean {
    return this.closed;
  }

  execute<T = unknown>(command: string, args?: Record<string, unknown>): Promise<T> {
    if (this.closed) return Promise.reject(new Error(`QMP connection closed before ${command}: QEMU has exited`));
    const id = String(this.nextId++);
    return new Promise<T>((resolve, reject) => {
      this.pending.set(id, { command, resolve: resolve as (v: unknown) => void, reject });
      this.socket.write(`${JSON.stringify({ execute: command, ...(args ? { arguments: args } : {}), id })}\n`);
    });
  }

  onEvent(listener: (e: QmpEvent) => void): void {
    this.eventListeners.push(listener);
  }

  onClose(listener: () => void): void {
    if (this.closed) listener();
    else this.closeListeners.push(listener);
  }

  /** Resolves once QEMU has closed the socket (it exits, or another client took over). */
  closedPromise(): Promise<void> {
    return new Promise((resolve) => this.onClose(resolve));
  }

  close(): void {
    this.socket.end();
    this.socket.destroy();
  }

  private greetingWaiter: ((ok: boolean) => void) | null = null;

  private greeting(timeoutMs: number): Promise<void> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`QEMU sent no QMP greeting in ${timeoutMs} ms`)), timeoutMs);
      this.greetingWaiter = (ok) => {
        clearTimeout(timer);
        if (ok) resolve();
        else reject(new Error('QMP socket closed before its greeting: is another client connected?'));
      };
      this.onClose(() => this.greetingWaiter?.(false));
    });
  }

  private read(chunk: string): void {
    this.buffer += chunk;
    let nl: number;
    while ((nl = this.buffer.indexOf('\n')) >= 0) {
      const line = this.buffer.slice(0, nl).trim();
      this.buffer = this.buffer.slice(nl + 1);
      if (line) this.dispatch(JSON.parse(line) as Record<string, unknown>);
    }
  }

  private dispatch(message: Record<string, unknown>): void {
    if ('QMP' in message) {
      this.greetingWaiter?.(true);
      this.greetingWaiter = null;
      return;
    }
    if ('event' in message) {
      for (const l of this.eventListeners) l(message as unknown as QmpEvent);
      return;
    }
    const id = String(message.id);
    const pending = this.pending.get(id);
    if (!pending) return;
    this.pending.delete(id);
    if ('error' in message) {
      const error = message.error as { class: string; desc: string };
      pending.reject(new QmpError(pending.command, error.class, error.desc));
    } else {
      pending.resolve(message.return);
    }
  }
}
