// The pieces of an end-to-end run with real VMs: `vws agent` processes for nodes that live in
// network namespaces of the test's own, a small JSON client for polling the service, and what a
// namespace still holds (QEMU processes, taps) once the test asks for everything to be gone.

import assert from 'node:assert/strict';
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { root } from '../cli/client/real-server.ts';

const bin = join(root, 'bin/vws.js');

export interface AgentProcess {
  name: string;
  process: ChildProcess;
  output(): string;
  /** SIGKILL, as a crashed agent: its VMs run on. */
  kill(): Promise<void>;
}

export interface AgentOptions {
  name: string;
  server: string;
  token: string;
  data: string;
  netns: string;
  migrationAddress: string;
  /** The node's size (default 1 CPU, 512 MiB). */
  cpu?: number;
  memoryMiB?: number;
  /** Where other nodes' VXLAN packets for cluster networks reach this one (vws agent --underlay). */
  underlay?: string;
}

export function startAgent(o: AgentOptions): AgentProcess {
  const child = spawn(process.execPath, [
    bin, 'agent', '--server', o.server, '--token', o.token, '--data', o.data, '--name', o.name,
    '--cpu', String(o.cpu ?? 1), '--memory', String(o.memoryMiB ?? 512), '--disk', '4096', ...(o.underlay ? ['--underlay', o.underlay] : []), '--netns', o.netns, '--bridge', 'vwsbr0',
    '--transfer-address', '127.0.0.1', '--migration-address', o.migrationAddress,
  ], { cwd: root, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout.on('data', (d: Buffer) => (output += d.toString()));
  child.stderr.on('data', (d: Buffer) => (output += d.toString()));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  return {
    name: o.name,
    process: child,
    output: () => output,
    async kill() {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
      await exited;
    },
  };
}

/** A caller of the service's API with one token. */
export function api(url: string, token: string) {
  const call = async <T>(method: string, path: string, body?: unknown): Promise<T> => {
    const res = await fetch(`${url}${path}`, {
      method,
      headers: { authorization: `Bearer ${token}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await res.text();
    if (!res.ok) throw new Error(`${method} ${path} answered ${res.status}: ${text}`);
    return JSON.parse(text) as T;
  };
  // A GET is asked again once if its pooled connection was closed under it: a test that blocks its
  // event loop (an ssh run synchronously) does not see the server close an idle keep-alive socket
  // before it sends on it again.
  const get = <T>(path: string): Promise<T> => call<T>('GET', path).catch((e: Error) => {
    if (e.message !== 'fetch failed') throw e;
    return call<T>('GET', path);
  });
  return { get, post: <T>(path: string, body: unknown) => call<T>('POST', path, body) };
}

export interface WorkspaceView {
  index: number;
  node: string | null;
  status: string;
  ip: string | null;
  /** When the service last heard of the VM, by its clock (epoch seconds). */
  updatedAt: number;
}

export interface LeaseView {
  id: string;
  status: string;
  nodes: string[];
  plannedStart: number | null;
  plannedEnd: number | null;
  reason: { code: string; message: string } | null;
  workspaces?: WorkspaceView[];
}

/** The pids of QEMU processes running in a namespace. */
export function qemuPids(netns: string): number[] {
  const pids = execFileSync('ip', ['netns', 'pids', netns], { encoding: 'utf8' }).split('\n').filter(Boolean).map(Number);
  return pids.filter((pid) => {
    try {
      return readFileSync(`/proc/${pid}/cmdline`, 'utf8').startsWith('qemu-system');
    } catch {
      return false;
    }
  });
}

/** The VM taps (the agent names them vwt…) in a namespace. */
export function taps(netns: string): string[] {
  return execFileSync('ip', ['-n', netns, '-o', 'link', 'show'], { encoding: 'utf8' })
    .split('\n')
    .map((line) => /^\d+: (vwt[0-9a-f]+)/.exec(line)?.[1])
    .filter((t): t is string => Boolean(t));
}

/** What is left under an agent's VM directories (overlays, state files). */
export function vmLeftovers(agentData: string): string[] {
  try {
    return readdirSync(join(agentData, 'vms'), { recursive: true }).map(String);
  } catch {
    return [];
  }
}

/** Registers an image and uploads its content, as `vws image add` does. */
export async function registerImage(server: string, token: string, name: string, file: string, boot?: { kernel: string; initrd: string; cmdline: string }): Promise<void> {
  const content = readFileSync(file);
  const sha256 = createHash('sha256').update(content).digest('hex');
  const headers = { authorization: `Bearer ${token}` };
  const registered = await fetch(`${server}/v1/images`, {
    method: 'POST',
    headers: { ...headers, 'content-type': 'application/json' },
    body: JSON.stringify({ name, sizeMiB: Math.max(1, Math.ceil(statSync(file).size / 2 ** 20)), sha256, ...(boot ? { boot } : {}) }),
  });
  assert.equal(registered.status, 201, `POST /v1/images ${name}: ${await registered.text()}`);
  const uploaded = await fetch(`${server}/v1/images/${name}/content`, { method: 'PUT', headers: { ...headers, 'content-type': 'application/octet-stream' }, body: content });
  assert.equal(uploaded.status, 200, `PUT /v1/images/${name}/content: ${await uploaded.text()}`);
}
