// Each VM's QEMU process in a cgroup of its own, capped at what its lease gave it: `cpu` CPUs of
// time (CFS bandwidth: a quota per period, so a VM leased 0.5 CPU runs half of each 100 ms even on
// an idle node) and a memory limit (the guest's memory and QEMU's own overhead, qemu-argv.ts).
// The quota is a ceiling; a weight in proportion to the lease (cpu.shares, cpu.weight) is the
// floor's half of it: on a node short of CPU, VMs share what there is in the ratio of their leases,
// and the agent's group as a whole weighs as much as one busy process per CPU of the host, so that
// the node's other processes do not crowd the VMs out.
// QEMU joins its groups before it is exec'd (qemu-argv.ts), so nothing it allocates is ever
// charged elsewhere. The groups are named after the VM under one group per agent (named after its
// data directory, made with the first VM's and removed with the last, so that an agent without
// VMs leaves nothing in the hierarchy however it ends): a restarted agent finds them again by
// name, puts an adopted VM's process back in them, and removes those of VMs it no longer has.

import { createHash } from 'node:crypto';
import { cpus } from 'node:os';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { type CgroupLayout, type Controller, CONTROLLERS, hostCgroupLayout } from './cgroup-layout.ts';

/** CFS period: 100 ms, the kernel's default; a quota is a share of it. */
export const CPU_PERIOD_US = 100_000;
/** v1's cpu.shares for one CPU (its default for any group), and v2's cpu.weight. */
const V1_SHARES_PER_CPU = 1024;
const V2_WEIGHT_PER_CPU = 100;
/** The kernel refuses a quota under 1 ms. */
const MIN_QUOTA_US = 1_000;
/** A group whose QEMU just exited is empty a moment later, once the process is reaped. */
const REMOVE_TRIES = 50;
const REMOVE_PAUSE_MS = 40;

export interface VmCgroupLimits {
  /** CPUs of time, fractional allowed. */
  cpu: number;
  /** The whole process's memory: the guest's and QEMU's own (vm-memory.ts). */
  memoryMiB: number;
}

/** What a VM's groups hold, as read back from the kernel's files (for tests and operators). */
export interface VmCgroupState {
  cpuQuotaUs: number | null;
  cpuPeriodUs: number;
  memoryBytes: number | null;
  pids: number[];
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

function write(file: string, value: string, what: string): void {
  try {
    writeFileSync(file, value);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    const hint = code === 'EACCES' || code === 'EPERM' || code === 'EROFS'
      ? 'the agent must be able to write the cgroup filesystem (run it as root, or delegate a cgroup to it and name it with --cgroup-parent)'
      : code === 'EBUSY' && file.endsWith('cgroup.subtree_control')
        ? 'cgroup v2 enables no controller below a cgroup that holds processes itself (the agent\'s own): name an empty one with --cgroup-parent, e.g. a systemd slice delegated to the agent'
        : 'see the kernel\'s cgroup documentation for the file';
    throw new Error(`cannot ${what} (${value.trim()} > ${file}: ${code ?? (e as Error).message}): ${hint}`, { cause: e });
  }
}

export class VmCgroups {
  private constructor(private readonly layout: CgroupLayout, private readonly group: string) {}

  /** The agent's groups (`vws-TAG` under each controller's parent); the parents are checked (and under v2 set up) now. */
  static open(layout: CgroupLayout, tag: string): VmCgroups {
    if (!/^[A-Za-z0-9._-]{1,64}$/.test(tag)) throw new Error(`cgroup tag '${tag}' must be 1 to 64 letters, digits, '.', '_' or '-'`);
    const groups = new VmCgroups(layout, `vws-${tag}`);
    for (const c of CONTROLLERS) groups.checkParent(c);
    return groups;
  }

  /** The directory of VM `name`'s group for each controller (one directory where they share a hierarchy). */
  dirsOf(name: string): Record<Controller, string> {
    checkName(name);
    return { cpu: join(this.rootOf('cpu'), name), memory: join(this.rootOf('memory'), name) };
  }

  /**
   * Makes (or updates) VM `name`'s groups with these limits; returns the cgroup.procs files a
   * process writes its pid to to join them, before it runs anything the VM needs.
   */
  prepare(name: string, limits: VmCgroupLimits): string[] {
    if (!(Number.isFinite(limits.cpu) && limits.cpu > 0)) throw new Error(`VM ${name}: a CPU limit must be a positive number, got ${limits.cpu}`);
    if (!(Number.isSafeInteger(limits.memoryMiB) && limits.memoryMiB > 0)) throw new Error(`VM ${name}: a memory limit must be a positive whole number of MiB, got ${limits.memoryMiB}`);
    const dirs = this.dirsOf(name);
    for (const c of CONTROLLERS) {
      this.ensureAgentGroup(c);
      mkdirSync(dirs[c], { recursive: true });
    }
    this.setCpu(dirs.cpu, limits.cpu);
    this.setMemory(dirs.memory, limits.memoryMiB * 2 ** 20);
    return this.procsFiles(name);
  }

  /** The cgroup.procs files of VM `name`'s groups, each once. */
  procsFiles(name: string): string[] {
    return [...new Set(Object.values(this.dirsOf(name)))].map((d) => join(d, 'cgroup.procs'));
  }

  /** Puts a running process (an adopted VM's QEMU) into VM `name`'s groups, all its threads with it. */
  join(name: string, pid: number, limits: VmCgroupLimits): void {
    for (const file of this.prepare(name, limits)) write(file, `${pid}\n`, `put process ${pid} in VM ${name}'s cgroup`);
  }

  /** Removes VM `name`'s groups once their process has gone; false if one still holds a process. */
  async remove(name: string): Promise<boolean> {
    let gone = true;
    for (const dir of new Set(Object.values(this.dirsOf(name)))) gone = (await removeGroup(dir)) && gone;
    await this.close();
    return gone;
  }

  /** Removes the empty groups of VMs the agent no longer has (a crash between a VM's end and its cleanup). */
  async sweep(keep: ReadonlySet<string>): Promise<void> {
    for (const c of CONTROLLERS) {
      const root = this.rootOf(c);
      if (!existsSync(root)) continue;
      for (const entry of readdirSync(root, { withFileTypes: true })) {
        if (entry.isDirectory() && !keep.has(entry.name) && pidsIn(join(root, entry.name)).length === 0) await removeGroup(join(root, entry.name));
      }
    }
    await this.close();
  }

  /** The agent's own groups go if they hold no VM's (the VMs that run on keep theirs, and them). */
  async close(): Promise<void> {
    for (const c of CONTROLLERS) if (existsSync(this.rootOf(c))) await removeGroup(this.rootOf(c), 1);
  }

  /** The node is handed back: every empty VM group goes, and the agent's own group with them when empty. */
  async tearDown(): Promise<void> {
    await this.sweep(new Set());
    for (const c of CONTROLLERS) if (existsSync(this.rootOf(c))) await removeGroup(this.rootOf(c), 1);
  }

  /** What the kernel holds for VM `name`, or null when it has no groups. */
  state(name: string): VmCgroupState | null {
    const dirs = this.dirsOf(name);
    if (!existsSync(dirs.cpu) || !existsSync(dirs.memory)) return null;
    const cpu = this.readCpu(dirs.cpu);
    return { cpuQuotaUs: cpu.quota, cpuPeriodUs: cpu.period, memoryBytes: this.readMemory(dirs.memory), pids: [...new Set([...pidsIn(dirs.cpu), ...pidsIn(dirs.memory)])] };
  }

  private rootOf(c: Controller): string {
    const place = this.layout[c];
    return join(place.mount, place.parent, this.group);
  }

  private checkParent(c: Controller): void {
    const place = this.layout[c];
    const parent = join(place.mount, place.parent);
    if (!existsSync(parent)) throw new Error(`the cgroup parent ${parent} (${c} controller) does not exist: create it, or give another --cgroup-parent`);
    if (place.version === 2) enableV2(parent, c);
  }

  /** The agent's group for `c`, made as the first VM's group is. */
  private ensureAgentGroup(c: Controller): void {
    const root = this.rootOf(c);
    const made = !existsSync(root);
    if (made) {
      this.checkParent(c);
      mkdirSync(root, { recursive: true });
    }
    if (this.layout[c].version === 2) enableV2(root, c);
    if (made && c === 'cpu') this.setWeight(root, cpus().length);
  }

  /** The group's CPU weight: `cpu` CPUs' worth, within what each cgroup version takes. */
  private setWeight(dir: string, cpu: number): void {
    if (this.layout.cpu.version === 2) return write(join(dir, 'cpu.weight'), `${Math.min(10_000, Math.max(1, Math.round(cpu * V2_WEIGHT_PER_CPU)))}\n`, 'weigh the VM\'s CPU');
    write(join(dir, 'cpu.shares'), `${Math.min(262_144, Math.max(2, Math.round(cpu * V1_SHARES_PER_CPU)))}\n`, 'weigh the VM\'s CPU');
  }

  private setCpu(dir: string, cpu: number): void {
    this.setWeight(dir, cpu);
    const quota = Math.max(MIN_QUOTA_US, Math.round(cpu * CPU_PERIOD_US));
    if (this.layout.cpu.version === 2) return write(join(dir, 'cpu.max'), `${quota} ${CPU_PERIOD_US}\n`, 'cap the VM\'s CPU time');
    write(join(dir, 'cpu.cfs_period_us'), `${CPU_PERIOD_US}\n`, 'set the VM\'s CPU period');
    write(join(dir, 'cpu.cfs_quota_us'), `${quota}\n`, 'cap the VM\'s CPU time');
  }

  private setMemory(dir: string, bytes: number): void {
    if (this.layout.memory.version === 2) {
      write(join(dir, 'memory.max'), `${bytes}\n`, 'limit the VM\'s memory');
      // The guest's memory is RAM, as leased: none of it is pushed out to swap to make room.
      if (existsSync(join(dir, 'memory.swap.max'))) write(join(dir, 'memory.swap.max'), '0\n', 'keep the VM out of swap');
      return;
    }
    // v1: memory and memory+swap both at the limit, so that swap adds nothing to it. The kernel
    // keeps memsw >= memory at every step, so the one that grows is written first.
    const memsw = join(dir, 'memory.memsw.limit_in_bytes');
    const order = existsSync(memsw) && Number(readFileSync(memsw, 'utf8')) < bytes ? [memsw, join(dir, 'memory.limit_in_bytes')] : [join(dir, 'memory.limit_in_bytes'), ...(existsSync(memsw) ? [memsw] : [])];
    for (const file of order) write(file, `${bytes}\n`, 'limit the VM\'s memory');
  }

  private readCpu(dir: string): { quota: number | null; period: number } {
    if (this.layout.cpu.version === 2) {
      const [quota, period] = readFileSync(join(dir, 'cpu.max'), 'utf8').trim().split(/\s+/);
      return { quota: quota === 'max' ? null : Number(quota), period: Number(period) };
    }
    const quota = Number(readFileSync(join(dir, 'cpu.cfs_quota_us'), 'utf8'));
    return { quota: quota < 0 ? null : quota, period: Number(readFileSync(join(dir, 'cpu.cfs_period_us'), 'utf8')) };
  }

  private readMemory(dir: string): number | null {
    if (this.layout.memory.version === 2) {
      const max = readFileSync(join(dir, 'memory.max'), 'utf8').trim();
      return max === 'max' ? null : Number(max);
    }
    return Number(readFileSync(join(dir, 'memory.limit_in_bytes'), 'utf8'));
  }
}

function checkName(name: string): void {
  if (!/^[A-Za-z0-9._%-]{1,200}$/.test(name) || name === '.' || name === '..') throw new Error(`'${name}' is not a VM's cgroup name (its directory name: letters, digits, '.', '_', '-', '%')`);
}

/** Turns controller `c` on for the children of v2 cgroup `dir`, if it is not yet. */
function enableV2(dir: string, c: Controller): void {
  const on = readFileSync(join(dir, 'cgroup.subtree_control'), 'utf8').split(/\s+/);
  if (on.includes(c)) return;
  const offered = readFileSync(join(dir, 'cgroup.controllers'), 'utf8').split(/\s+/);
  if (!offered.includes(c)) throw new Error(`the cgroup v2 group ${dir} is not offered the ${c} controller (its cgroup.controllers: ${offered.join(' ').trim() || 'none'}): enable it in its parent's cgroup.subtree_control, or give another --cgroup-parent`);
  write(join(dir, 'cgroup.subtree_control'), `+${c}\n`, `enable the ${c} controller below ${dir}`);
}

function pidsIn(dir: string): number[] {
  try {
    return readFileSync(join(dir, 'cgroup.procs'), 'utf8').split('\n').filter(Boolean).map(Number);
  } catch {
    return [];
  }
}

/** rmdir, retried while the kernel still counts an exiting process in it; true once it is gone. */
async function removeGroup(dir: string, tries = REMOVE_TRIES): Promise<boolean> {
  for (let i = 0; i < tries; i++) {
    try {
      rmdirSync(dir);
      return true;
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      if (code === 'ENOENT') return true;
      // EBUSY: a process is still in it (or, for the agent's group, a VM's group).
      if (code !== 'EBUSY') throw new Error(`cannot remove the cgroup ${dir}: ${code ?? (e as Error).message}`, { cause: e });
      await sleep(REMOVE_PAUSE_MS);
    }
  }
  return false;
}

/** Where an agent's VMs get their cgroups: off (false), or under `parent` (default: the agent's own cgroup). */
export type CgroupChoice = false | { parent?: string };

/** The VM cgroups of the agent whose data directory is `data` (its group is named after it), or null when turned off. */
export function openVmCgroups(data: string, choice: CgroupChoice | undefined, layoutOf: (parent?: string) => CgroupLayout | { problem: string } = hostCgroupLayout): VmCgroups | null {
  if (choice === false) return null;
  const layout = layoutOf(choice?.parent);
  if ('problem' in layout) throw new Error(`VMs cannot be held to their leased CPU and memory: ${layout.problem}`);
  return VmCgroups.open(layout, createHash('sha256').update(resolve(data)).digest('hex').slice(0, 12));
}
