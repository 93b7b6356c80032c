// Where the node's cgroup controllers are, for the cpu and memory limits on each VM's QEMU process
// (vm-cgroups.ts). A host may mount cgroup v1 hierarchies (one per controller, or a few
// controllers together), a cgroup v2 hierarchy, or both (a "hybrid" host: systemd mounts an empty
// cgroup2 at /sys/fs/cgroup/unified beside the v1 controllers). A controller is used where it is
// actually bound: in the v2 hierarchy when its root lists it in cgroup.controllers, otherwise in the
// v1 hierarchy mounted with it. Nothing is assumed about paths: /proc/self/mounts and
// /proc/self/cgroup say where each hierarchy is and where the agent itself sits in it.

import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

export type Controller = 'cpu' | 'memory';
export const CONTROLLERS: readonly Controller[] = ['cpu', 'memory'];

/** One controller as the agent uses it: which cgroup version, and the directory VMs' groups go under. */
export interface ControllerPlace {
  version: 1 | 2;
  /** The hierarchy's mount point. */
  mount: string;
  /** The cgroup below which the agent makes its VMs' groups, as a path inside the hierarchy ('/' its root). */
  parent: string;
}

export type CgroupLayout = Record<Controller, ControllerPlace>;

export interface Mount {
  type: 'cgroup' | 'cgroup2';
  path: string;
  /** For v1: the controllers bound to it (its mount options that name one). */
  options: string[];
}

/** The cgroup mounts in /proc/self/mounts' text. Paths there escape spaces and the like as octal (\040). */
export function parseMounts(text: string): Mount[] {
  const unescape = (s: string) => s.replace(/\\([0-7]{3})/g, (_, o: string) => String.fromCharCode(parseInt(o, 8)));
  const mounts: Mount[] = [];
  for (const line of text.split('\n')) {
    const [, path, type, options] = line.split(' ');
    if (type === 'cgroup' || type === 'cgroup2') mounts.push({ type, path: unescape(path), options: options.split(',') });
  }
  return mounts;
}

/** /proc/self/cgroup: the v1 hierarchies by their controllers (`4:memory:/x`, `1:cpu,cpuacct:/`), and the v2 path (`0::/x`). */
export function parseProcCgroup(text: string): { v1: Map<string, string>; v2: string | undefined } {
  const v1 = new Map<string, string>();
  let v2: string | undefined;
  for (const line of text.split('\n').filter(Boolean)) {
    const first = line.indexOf(':');
    const second = line.indexOf(':', first + 1);
    if (first < 0 || second < 0) continue;
    const controllers = line.slice(first + 1, second);
    const path = line.slice(second + 1);
    if (line.slice(0, first) === '0' && controllers === '') v2 = path;
    else for (const c of controllers.split(',')) v1.set(c, path);
  }
  return { v1, v2 };
}

export interface LayoutInputs {
  mounts: Mount[];
  self: ReturnType<typeof parseProcCgroup>;
  /** The controllers a v2 hierarchy's root offers (its cgroup.controllers), by mount point. */
  v2Controllers: (mount: string) => string[];
  /**
   * Where the agent's VMs' groups go, inside each hierarchy; absent, under the agent's own cgroup, so
   * that whatever limits the agent was started under (a systemd slice, a container) hold its VMs too.
   */
  parent?: string;
}

/** Where each controller is, or what is missing and what to do. */
export function cgroupLayout(inputs: LayoutInputs): CgroupLayout | { problem: string } {
  const places: Partial<CgroupLayout> = {};
  for (const controller of CONTROLLERS) {
    const v2 = inputs.mounts.find((m) => m.type === 'cgroup2' && inputs.v2Controllers(m.path).includes(controller));
    if (v2) {
      const own = inputs.self.v2;
      if (own === undefined && inputs.parent === undefined) return { problem: `the ${controller} controller is in the cgroup v2 hierarchy at ${v2.path}, but /proc/self/cgroup names no v2 cgroup for the agent: give --cgroup-parent` };
      places[controller] = { version: 2, mount: v2.path, parent: inputs.parent ?? own! };
      continue;
    }
    const v1 = inputs.mounts.find((m) => m.type === 'cgroup' && m.options.includes(controller));
    if (!v1) {
      return { problem: `no cgroup hierarchy has the ${controller} controller (neither a cgroup2 mount listing it in cgroup.controllers nor a cgroup v1 mount with it): mount one, or run the agent with --cgroups off to leave VMs uncapped` };
    }
    const own = inputs.self.v1.get(controller);
    if (own === undefined && inputs.parent === undefined) return { problem: `/proc/self/cgroup names no cgroup of the agent's for the ${controller} controller: give --cgroup-parent` };
    places[controller] = { version: 1, mount: v1.path, parent: inputs.parent ?? own! };
  }
  return places as CgroupLayout;
}

/** This host's layout, read from /proc. */
export function hostCgroupLayout(parent?: string): CgroupLayout | { problem: string } {
  const read = (file: string) => (existsSync(file) ? readFileSync(file, 'utf8') : '');
  return cgroupLayout({
    mounts: parseMounts(read('/proc/self/mounts')),
    self: parseProcCgroup(read('/proc/self/cgroup')),
    v2Controllers: (mount) => read(join(mount, 'cgroup.controllers')).trim().split(/\s+/).filter(Boolean),
    ...(parent !== undefined ? { parent } : {}),
  });
}
