// Where a node's context relay listens. On the host (production) it is the relay itself on the
// relay port. An agent run with --netns runs outside its namespace (it enters it only through `ip
// netns exec` and `ip -n`, commands.ts), so its relay listens on a Unix socket in the agent's
// data dir and a small forwarder, started inside the namespace, listens on the relay port there
// and pipes each connection to that socket. The forwarder is the agent's: started again if it
// dies, stopped when the agent closes, and one left by an agent that crashed is replaced.
import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, openSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { CONTEXT_RELAY_PORT } from '../drivers/qemu/protocol.ts';
import { ContextRelay } from './context-relay.ts';
import { tail } from './network/dnsmasq.ts';
import { commandLine, isRunning, readPid, stopProcess } from './network/processes.ts';
import { waitUntil } from './network/wait-until.ts';

/** The forwarder, shipped beside this file (scripts/build.mjs copies it to dist/ as it is). */
export const FORWARDER_PATH = fileURLToPath(new URL('./context-relay-forwarder.mjs', import.meta.url));

const START_DEADLINE_MS = 10_000;
const FORWARDER = "the context relay's forwarder";
/** A forwarder that keeps dying is not started again in a tight loop. */
const RESTART_DELAY_MS = 1_000;

export interface NodeRelayOptions {
  /** The service's base URL (vws agent --server). */
  server: string;
  ca?: string;
  /** The agent's namespace (tests): the relay listens there, through the forwarder. */
  netns?: string;
  /** The agent's data dir: the socket, the forwarder's pid file and log. */
  dir: string;
}

export class NodeContextRelay {
  private constructor(private readonly relay: ContextRelay, private readonly forwarder?: Forwarder) {}

  static async start(opts: NodeRelayOptions): Promise<NodeContextRelay> {
    const upstream = { upstream: opts.server, ...(opts.ca ? { ca: opts.ca } : {}) };
    if (!opts.netns) return new NodeContextRelay(await ContextRelay.listen(upstream, { host: '0.0.0.0', port: CONTEXT_RELAY_PORT }));
    const socket = join(opts.dir, 'context-relay.sock');
    const relay = await ContextRelay.listen(upstream, { socket });
    const forwarder = new Forwarder(opts.netns, socket, opts.dir);
    try {
      await forwarder.start();
    } catch (e) {
      await relay.close();
      throw e;
    }
    return new NodeContextRelay(relay, forwarder);
  }

  /** The forwarder's pid, when there is one (tests kill it to see it come back). */
  get forwarderPid(): number | undefined {
    return this.forwarder?.pid;
  }

  async close(): Promise<void> {
    await this.forwarder?.stop();
    await this.relay.close();
  }
}

class Forwarder {
  private child: ChildProcess | null = null;
  private stopping = false;
  private restart: NodeJS.Timeout | null = null;
  private readonly pidFile: string;
  private readonly log: string;

  constructor(private readonly netns: string, private readonly socket: string, dir: string) {
    this.pidFile = join(dir, 'context-relay-forwarder.pid');
    this.log = join(dir, 'context-relay-forwarder.log');
  }

  get pid(): number | undefined {
    const pid = readPid(this.pidFile);
    return pid !== undefined && this.isOurs(pid) ? pid : undefined;
  }

  /** Starts it; one that cannot start is not tried again (the agent does not start either). */
  async start(): Promise<void> {
    try {
      await this.launch();
    } catch (e) {
      await this.stop();
      throw e;
    }
  }

  private async launch(): Promise<void> {
    // One left by an agent that crashed holds the port: it goes, and ours takes its place.
    const stale = readPid(this.pidFile);
    if (stale !== undefined && this.isOurs(stale)) await stopProcess(stale, FORWARDER);
    rmSync(this.pidFile, { force: true });
    const logFd = openSync(this.log, 'a');
    const child = spawn('ip', ['netns', 'exec', this.netns, process.execPath, FORWARDER_PATH, '--port', String(CONTEXT_RELAY_PORT), '--socket', this.socket, '--pid-file', this.pidFile], {
      stdio: ['ignore', logFd, logFd],
    });
    closeSync(logFd);
    this.child = child;
    let exited = false;
    child.once('exit', () => {
      exited = true;
      if (this.child === child) this.child = null;
      if (!this.stopping) this.scheduleRestart();
    });
    await waitUntil(
      () => {
        if (exited) throw new Error(`the context relay's forwarder in ${this.netns} exited as it started; its log ${this.log} ends: ${tail(this.log)}`);
        return this.pid !== undefined;
      },
      START_DEADLINE_MS,
      () => new Error(`the context relay's forwarder in ${this.netns} did not listen within ${START_DEADLINE_MS} ms; its log ${this.log} ends: ${tail(this.log)}`),
    );
  }

  async stop(): Promise<void> {
    this.stopping = true;
    if (this.restart) clearTimeout(this.restart);
    const pid = this.pid ?? this.child?.pid;
    if (pid !== undefined) await stopProcess(pid, FORWARDER);
    rmSync(this.pidFile, { force: true });
  }

  private scheduleRestart(): void {
    this.restart = setTimeout(() => {
      this.restart = null;
      if (this.stopping) return;
      // A failed start is tried again the same way: the exit of what it spawned schedules it.
      this.launch().catch((e: Error) => process.stderr.write(`vws agent: ${e.message}\n`));
    }, RESTART_DELAY_MS);
    this.restart.unref();
  }

  /** Whether `pid` is a forwarder of this data dir (a stale pid may be anyone's by now). */
  private isOurs(pid: number): boolean {
    if (!isRunning(pid)) return false;
    const cmd = commandLine(pid) ?? [];
    return cmd.some((a) => a.endsWith('context-relay-forwarder.mjs')) && cmd.includes(this.pidFile);
  }
}
