// Network namespaces a test builds for itself and takes down afterwards: nothing here touches the
// machine's own network. Names carry the process id so that runs side by side do not meet.

import { execFile, execFileSync } from 'node:child_process';
import { promisify } from 'node:util';
import { readFileSync, rmdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { parseMounts } from '../../src/agent/cgroups/cgroup-layout.ts';
import { isRunning } from '../../src/agent/network/processes.ts';
import { waitUntil } from '../../src/agent/network/wait-until.ts';

export function ip(...args: string[]): string {
  try {
    return execFileSync('ip', args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  } catch (e) {
    throw new Error(`ip ${args.join(' ')} failed: ${(e as { stderr?: string }).stderr?.trim() || (e as Error).message}`, { cause: e });
  }
}

/** Runs a command inside a namespace and returns what it printed. */
export function inNetns(ns: string, command: string[], timeoutMs = 15_000): string {
  return execFileSync('ip', ['netns', 'exec', ns, ...command], { encoding: 'utf8', timeout: timeoutMs, stdio: ['ignore', 'pipe', 'pipe'] });
}

/**
 * inNetns without holding the event loop: for a test whose own process also runs an agent, which
 * takes the service for gone when it hears nothing for 25 s (an ssh into a guest under TCG can
 * take seconds, and a few in a row held the loop that long).
 */
export async function inNetnsAsync(ns: string, command: string[], timeoutMs = 15_000): Promise<string> {
  return (await promisify(execFile)('ip', ['netns', 'exec', ns, ...command], { encoding: 'utf8', timeout: timeoutMs })).stdout;
}

/**
 * Kills every process in a namespace and waits until they are gone. The cgroups an agent made for
 * the VMs among them (vm-cgroups.ts: under a `vws-` group named after the agent's data directory)
 * go too, once empty: an agent that is not opened again never sweeps them.
 */
export async function killAllIn(netns: string): Promise<void> {
  const pids = execFileSync('ip', ['netns', 'pids', netns], { encoding: 'utf8' }).split('\n').filter(Boolean).map(Number);
  const groups = pids.flatMap(vmCgroupsOf);
  for (const pid of pids) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // gone already
    }
  }
  await waitUntil(() => pids.every((pid) => !isRunning(pid)), 10_000, () => new Error(`processes in ${netns} survived SIGKILL: ${pids.join(' ')}`));
  for (const dir of groups) {
    // The VM's group, then its agent's if that was its last; a group still in use is left alone.
    for (const d of [dir, dirname(dir)]) await waitUntil(() => rmdirQuietly(d), 2_000, () => new Error('busy')).catch(() => undefined);
  }
}

/** The directories of the VM cgroups (`.../vws-HASH/VM`) process `pid` is in, in each v1 or v2 hierarchy. */
function vmCgroupsOf(pid: number): string[] {
  let lines: string[];
  try {
    lines = readFileSync(`/proc/${pid}/cgroup`, 'utf8').split('\n');
  } catch {
    return [];
  }
  const mounts = parseMounts(readFileSync('/proc/self/mounts', 'utf8'));
  return lines.flatMap((line) => {
    const [, controllers, path] = line.split(':');
    if (!/\/vws-[0-9a-f]{12}\/[^/]+$/.test(path ?? '')) return [];
    const mount = controllers === '' ? mounts.find((m) => m.type === 'cgroup2') : mounts.find((m) => m.type === 'cgroup' && controllers.split(',').some((c) => m.options.includes(c)));
    return mount ? [join(mount.path, path)] : [];
  });
}

function rmdirQuietly(dir: string): boolean {
  try {
    rmdirSync(dir);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code !== 'EBUSY';
  }
}

/**
 * The body of http://IP/PATH fetched from inside a namespace, where the guest's bridge is: the
 * only place a guest can be reached from. Retried: a guest takes its address a moment before its
 * HTTP server listens.
 */
export function httpGetIn(netns: string, ip: string, path: string): Promise<string> {
  let last = '';
  return waitUntil(
    () => {
      try {
        // No -T: this busybox's wget segfaults with it; the exec timeout guards against a hang instead.
        return inNetns(netns, ['busybox', 'wget', '-q', '-O-', `http://${ip}${path}`], 30_000);
      } catch (e) {
        last = (e as { stderr?: string }).stderr?.trim() || (e as Error).message;
        return undefined;
      }
    },
    60_000,
    () => new Error(`no HTTP answer from http://${ip}${path} in ${netns}: ${last}`),
    200,
  );
}

export interface TwoNodeFabric {
  namespaces: [string, string];
  /** The addresses of the two ends of the link between them. */
  addresses: [string, string];
  destroy(): void;
}

/** Two namespaces joined by a veth pair (10.98.0.1/30 and 10.98.0.2/30), each with lo up. */
/** `suffixes` name the two namespaces after the base (`vws-TAG-PID-a` and `-b` by default). */
export function twoNodeFabric(tag: string, suffixes: readonly [string, string] = ['a', 'b']): TwoNodeFabric {
  const base = `vws-${tag}-${process.pid}`;
  const namespaces: [string, string] = [`${base}-${suffixes[0]}`, `${base}-${suffixes[1]}`];
  const addresses: [string, string] = ['10.98.0.1', '10.98.0.2'];
  const destroy = (): void => {
    for (const ns of namespaces) {
      try {
        ip('netns', 'del', ns);
      } catch {
        // not made, or already gone
      }
    }
  };
  try {
    for (const ns of namespaces) {
      ip('netns', 'add', ns);
      ip('-n', ns, 'link', 'set', 'lo', 'up');
    }
    const [va, vb] = [`vwsa${process.pid % 100000}`, `vwsb${process.pid % 100000}`];
    ip('link', 'add', va, 'netns', namespaces[0], 'type', 'veth', 'peer', 'name', vb, 'netns', namespaces[1]);
    namespaces.forEach((ns, i) => {
      const dev = i === 0 ? va : vb;
      ip('-n', ns, 'addr', 'add', `${addresses[i]}/30`, 'dev', dev);
      ip('-n', ns, 'link', 'set', dev, 'up');
    });
  } catch (e) {
    destroy();
    throw e;
  }
  return { namespaces, addresses, destroy };
}
