// A real `vws serve` in a child process, and the `vws` client run against it as a child
// process too: the tests see exactly what a person at a shell would.

import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { freePort } from '../../support/free-port.ts';
import { bin, root } from '../../support/vws-bin.ts';
export { freePort, root };

export const BOOTSTRAP_TOKEN = 'vws_test-bootstrap-token';

export interface RealServer {
  url: string;
  port: number;
  process: ChildProcess;
  /** What it has printed so far. */
  output(): string;
  /** SIGKILL, as a crash would: resolves once it has exited. */
  kill(): Promise<void>;
}

/** A port nobody listens on right now; the server is then started on it, so a restart can reuse it. */

/** Starts `vws serve` on `dataDir` (with `pool`: simulated nodes unless told otherwise) and resolves when it serves and /v1/health answers. */
export async function startServer(dataDir: string, port: number, pool: string[] = ['--nodes', '4']): Promise<RealServer> {
  const child = spawn(process.execPath, [bin, 'serve', '--data', dataDir, '--listen', `127.0.0.1:${port}`, ...pool], {
    cwd: root, env: { ...process.env, VWS_BOOTSTRAP_TOKEN: BOOTSTRAP_TOKEN }, stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  await new Promise<void>((resolve, reject) => {
    const onData = (chunk: Buffer): void => {
      output += chunk.toString();
      if (/serving http:\/\//.test(output)) resolve();
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', onData);
    child.once('exit', (code) => reject(new Error(`vws serve exited (${code}) before serving:\n${output}`)));
  });
  const url = `http://127.0.0.1:${port}`;
  const health = await fetch(`${url}/v1/health`);
  if (!health.ok || ((await health.json()) as { status?: string }).status !== 'ok') throw new Error(`GET /v1/health answered ${health.status}`);
  return {
    url, port, process: child,
    output: () => output,
    async kill() {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
      await exited;
    },
  };
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- JSON answers are checked by the assertions that read them
export interface Answer { status: number; body: Record<string, any> }

/** One REST call to a real server with a token: a JSON body, or raw bytes (image content). */
export async function apiCall(server: Pick<RealServer, 'url'>, token: string, method: string, path: string, body?: unknown, raw?: Buffer): Promise<Answer> {
  const res = await fetch(`${server.url}${path}`, {
    method, headers: { authorization: `Bearer ${token}`, ...(raw ? { 'content-type': 'application/octet-stream' } : body !== undefined ? { 'content-type': 'application/json' } : {}) },
    ...(raw ? { body: raw } : body !== undefined ? { body: JSON.stringify(body) } : {}),
  });
  const text = await res.text();
  return { status: res.status, body: text ? JSON.parse(text) : {} };
}

export interface Run {
  status: number | null;
  stdout: string;
  stderr: string;
}

/** Runs `vws ...args` to completion with its config file at `config` and no credentials from the environment. */
export function vws(config: string, ...args: string[]): Run {
  const r = spawnSync(process.execPath, [bin, ...args], { cwd: root, env: clientEnv(config), encoding: 'utf8' });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** Starts `vws ...args` and leaves it running, for `lease watch`. */
export function vwsBackground(config: string, ...args: string[]): ChildProcess & { lines: string[]; stderrText: () => string; exit: Promise<number | null> } {
  const child = spawn(process.execPath, [bin, ...args], { cwd: root, env: clientEnv(config), stdio: ['ignore', 'pipe', 'pipe'] });
  const lines: string[] = [];
  let partial = '';
  let stderr = '';
  child.stdout.on('data', (chunk: Buffer) => {
    const parts = (partial + chunk.toString()).split('\n');
    partial = parts.pop()!;
    lines.push(...parts);
  });
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const exit = new Promise<number | null>((resolve) => child.once('close', (code) => resolve(code)));
  return Object.assign(child, { lines, stderrText: () => stderr, exit });
}

/** Resolves once the background command has printed a line that `match` accepts. */
export function lineMatching(child: ReturnType<typeof vwsBackground>, match: RegExp): Promise<string> {
  return new Promise((resolve, reject) => {
    // vwsBackground's line splitter listens first, so `lines` is up to date when this runs.
    const check = (): boolean => {
      const found = child.lines.find((l) => match.test(l));
      if (found !== undefined) {
        child.stdout!.off('data', check);
        resolve(found);
      }
      return found !== undefined;
    };
    if (check()) return;
    child.stdout!.on('data', check);
    child.once('close', () => check() || reject(new Error(`exited without printing ${match}; printed:\n${child.lines.join('\n')}\n${child.stderrText()}`)));
  });
}

function clientEnv(config: string): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env, VWS_CONFIG: config };
  delete env.VWS_SERVER;
  delete env.VWS_TOKEN;
  return env;
}
