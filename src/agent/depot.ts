// A directory the site's nodes share (an HPC cluster's shared filesystem) where suspended VMs wait
// on no node: a node that must go back to its batch system parks its suspended VMs here, and any
// node that mounts the same directory takes them up later, the first node gone for good. Layout:
//
//   depot.json                      {"id": ...}: names this depot on every node that mounts it
//   vms/<vm dir>/                   a parked VM: parked.json (its workload, where it came from,
//                                   each file's size and sha256) and memory.state, disk.qcow2, scratch.qcow2
//   vms/.<vm dir>.parking-<node>/   a park under way on <node>: renamed to <vm dir> once whole
//   vms/.<vm dir>.gone-<node>/      an entry <node> took: removed once that node holds the VM for good
//
// An entry appears by one rename, whole and fsynced, and leaves by one: after a crash a VM is in
// the depot or on its node, and the dot-names tell a restarted node which step it was at.

import { createHash, randomBytes } from 'node:crypto';
import { createReadStream, createWriteStream, existsSync, linkSync, mkdirSync, readFileSync, readdirSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { DriverError } from '../drivers/driver.ts';
import { vmIdProblem } from '../drivers/qemu/agent-messages.ts';
import type { Workload } from '../drivers/qemu/protocol.ts';
import { type Syncer, writeDurably } from './durable.ts';
import { DISK_FILE, diskFilesOf, MEMORY_FILE, vmDirName } from './vm-parts.ts';

export const DEPOT_MARKER = 'depot.json';
const ENTRY_FILE = 'parked.json';
const FORMAT = 1;

export interface DepotFile {
  name: string;
  bytes: number;
  sha256: string;
}

/** What parked.json says of a parked VM. */
export interface ParkedEntry {
  format: number;
  workload: Workload;
  /** The node that parked it. */
  from: string;
  files: DepotFile[];
}

/** What a park or an unpark moved: bytes hashed (every file), bytes copied (the rest were hard links). */
export interface DepotMove {
  bytes: number;
  copied: number;
  ms: number;
}

const DEPOT_ID = /^[0-9a-f]{32}$/;

export class Depot {
  private readonly vms: string;

  private constructor(readonly dir: string, readonly id: string, private readonly node: string, private readonly sync: Syncer) {
    this.vms = join(dir, 'vms');
  }

  /**
   * The depot at `dir`, made there if it has no marker yet. Two nodes starting at once on a new
   * depot agree on one id: each links its own marker into place, and the second finds the first's.
   */
  static open(dir: string, node: string, sync: Syncer): Depot {
    if (!existsSync(dir)) throw new Error(`the depot ${dir} does not exist: make it on the shared filesystem (mkdir) and mount it on every node that shares it`);
    mkdirSync(join(dir, 'vms'), { recursive: true });
    const marker = join(dir, DEPOT_MARKER);
    if (!existsSync(marker)) {
      const mine = join(dir, `.${DEPOT_MARKER}.${node}.${randomBytes(4).toString('hex')}`);
      writeFileSync(mine, `${JSON.stringify({ id: randomBytes(16).toString('hex'), format: FORMAT })}\n`);
      sync.file(mine);
      try {
        linkSync(mine, marker);
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
      } finally {
        rmSync(mine, { force: true });
      }
      sync.dir(dir);
    }
    let id: unknown;
    try {
      id = (JSON.parse(readFileSync(marker, 'utf8')) as { id?: unknown }).id;
    } catch (e) {
      throw new Error(`the depot's marker ${marker} is not readable JSON (${(e as Error).message}): restore it from another node's view, or start with an empty directory`, { cause: e });
    }
    if (typeof id !== 'string' || !DEPOT_ID.test(id)) throw new Error(`the depot's marker ${marker} holds no id of 32 hex digits: restore it, or start with an empty directory`);
    return new Depot(dir, id, node, sync);
  }

  /** The ids of the VMs parked here, whole (an entry is never half there: it is renamed in once complete). */
  parked(): string[] {
    const ids: string[] = [];
    for (const name of readdirSync(this.vms)) {
      if (name.startsWith('.')) continue;
      const id = idOf(name);
      if (id !== null) ids.push(id);
    }
    return ids;
  }

  has(id: string): boolean {
    return existsSync(join(this.entryDir(id), ENTRY_FILE));
  }

  /** What parked.json says of the VM, checked; a DriverError naming what is wrong otherwise. */
  entry(id: string): ParkedEntry {
    const file = join(this.entryDir(id), ENTRY_FILE);
    if (!existsSync(this.entryDir(id))) throw new DriverError(id, `is not parked in the depot ${this.dir} (id ${this.id}): nothing was unparked`);
    let e: ParkedEntry;
    try {
      e = JSON.parse(readFileSync(file, 'utf8')) as ParkedEntry;
    } catch (err) {
      throw new DriverError(id, `its depot entry has no readable ${ENTRY_FILE} (${(err as Error).message}): the entry is left as it is for an administrator to look at`);
    }
    const wrong = entryProblem(e, id);
    if (wrong) throw new DriverError(id, `its depot entry is damaged: ${wrong}; the entry is left as it is for an administrator to look at`);
    return e;
  }

  // ---- parking: begin, fill, commit (or abort) ----

  /** The park's own directory, made afresh and durably (a restarted node looks for it). */
  begin(id: string): void {
    const dir = this.parkingDir(id);
    rmSync(dir, { recursive: true, force: true });
    mkdirSync(dir, { mode: 0o700 });
    this.sync.dir(this.vms);
  }

  isParking(id: string): boolean {
    return existsSync(this.parkingDir(id));
  }

  /** Puts the VM's files and its parked.json into the park's directory, each fsynced. */
  async fill(id: string, workload: Workload, files: Array<{ name: string; path: string }>): Promise<DepotMove> {
    const started = Date.now();
    const dir = this.parkingDir(id);
    const placed: DepotFile[] = [];
    let copied = 0;
    for (const f of files) {
      const p = await place(f.path, join(dir, f.name), this.sync, true);
      placed.push({ name: f.name, bytes: p.bytes, sha256: p.sha256 });
      if (p.copied) copied += p.bytes;
    }
    const entry: ParkedEntry = { format: FORMAT, workload, from: this.node, files: placed };
    writeDurably(join(dir, ENTRY_FILE), JSON.stringify(entry), this.sync);
    return { bytes: placed.reduce((n, f) => n + f.bytes, 0), copied, ms: Date.now() - started };
  }

  /** The one step that parks the VM: after it the depot has it whole. */
  commit(id: string): void {
    renameSync(this.parkingDir(id), this.entryDir(id));
    this.sync.dir(this.vms);
  }

  abort(id: string): void {
    rmSync(this.parkingDir(id), { recursive: true, force: true });
  }

  // ---- unparking: take into, let go, cleared ----

  /**
   * Puts the parked VM's files into `into` (a directory of this node's), each checked against its
   * size and sha256, after checking the entry is the VM `expect` describes. Hard links where the
   * depot and `into` share a filesystem, copies otherwise; the overlay is always copied, since the
   * node rewrites it (rebases it on its own base image) while the depot's must stay whole.
   */
  async takeInto(id: string, into: string, expect: Workload): Promise<DepotMove> {
    const started = Date.now();
    const e = this.entry(id);
    const differs = workloadDifference(e.workload, expect);
    if (differs) throw new DriverError(id, `its depot entry is not the VM the service describes (${differs}): nothing was unparked, the entry stays in the depot`);
    let bytes = 0;
    let copied = 0;
    for (const f of e.files) {
      const p = await place(join(this.entryDir(id), f.name), join(into, f.name), this.sync, f.name !== DISK_FILE);
      if (p.bytes !== f.bytes || p.sha256 !== f.sha256) {
        throw new DriverError(id, `its depot file ${f.name} has ${p.bytes} bytes with sha256 ${p.sha256}, not the ${f.bytes} bytes with sha256 ${f.sha256} it was parked with: the entry is damaged; it stays in the depot, nothing was unparked`);
      }
      bytes += p.bytes;
      if (p.copied) copied += p.bytes;
    }
    this.sync.dir(into);
    return { bytes, copied, ms: Date.now() - started };
  }

  /** The one step that takes the VM out of the depot: the entry is renamed as this node's. */
  letGo(id: string): void {
    const gone = this.goneDir(id);
    rmSync(gone, { recursive: true, force: true });
    renameSync(this.entryDir(id), gone);
    this.sync.dir(this.vms);
  }

  wasTakenHere(id: string): boolean {
    return existsSync(this.goneDir(id));
  }

  /** The node holds the VM for good: what it took goes. */
  cleared(id: string): void {
    rmSync(this.goneDir(id), { recursive: true, force: true });
  }

  /** A parked VM stopped: its entry goes. */
  discard(id: string): void {
    if (!existsSync(this.entryDir(id))) return;
    this.letGo(id);
    this.cleared(id);
  }

  /** What this node left in the depot (parks and takes it did not finish) once its own VMs were sorted. */
  sweep(): void {
    for (const name of readdirSync(this.vms)) {
      if (name.startsWith('.') && (name.endsWith(`.parking-${this.node}`) || name.endsWith(`.gone-${this.node}`))) rmSync(join(this.vms, name), { recursive: true, force: true });
    }
  }

  private entryDir(id: string): string {
    return join(this.vms, vmDirName(id));
  }

  private parkingDir(id: string): string {
    return join(this.vms, `.${vmDirName(id)}.parking-${this.node}`);
  }

  private goneDir(id: string): string {
    return join(this.vms, `.${vmDirName(id)}.gone-${this.node}`);
  }
}

/** The VM id an entry's directory name stands for, or null for a name no VM id makes. */
function idOf(name: string): string | null {
  let id: string;
  try {
    id = decodeURIComponent(name);
  } catch {
    return null;
  }
  return vmIdProblem(id) === null && vmDirName(id) === name ? id : null;
}

function entryProblem(e: ParkedEntry, id: string): string | null {
  if (typeof e !== 'object' || e === null) return `${ENTRY_FILE} is not an object`;
  if (e.format !== FORMAT) return `${ENTRY_FILE} has format ${JSON.stringify(e.format)}, not ${FORMAT} (parked by another vws version?)`;
  if (typeof e.workload !== 'object' || e.workload === null || e.workload.vm?.id !== id) return `${ENTRY_FILE} describes ${JSON.stringify(e.workload?.vm?.id)}, not ${id}`;
  if (!Array.isArray(e.files) || e.files.some((f) => typeof f?.name !== 'string' || !Number.isSafeInteger(f.bytes) || f.bytes < 0 || !/^[0-9a-f]{64}$/.test(String(f.sha256)))) return `${ENTRY_FILE} lists files without a name, size or sha256`;
  const want = [MEMORY_FILE, ...diskFilesOf(e.workload)].sort();
  const have = e.files.map((f) => f.name).sort();
  if (want.join() !== have.join()) return `${ENTRY_FILE} lists the files ${have.join(', ') || 'none'}, not the ${want.join(', ')} such a VM has`;
  return null;
}

/** How the entry's VM and the one the service describes differ in what its saved state depends on, or null. */
function workloadDifference(parked: Workload, asked: Workload): string | null {
  const pairs: Array<[string, unknown, unknown]> = [
    ['id', parked.vm.id, asked.vm.id],
    ['memory', parked.vm.memoryMiB, asked.vm.memoryMiB],
    ['CPUs', parked.vm.cpu, asked.vm.cpu],
    ['MAC', parked.vm.mac, asked.vm.mac],
    ['scratch disk', parked.vm.scratchMiB ?? 0, asked.vm.scratchMiB ?? 0],
    ['disk image', parked.disk?.sha256 ?? null, asked.disk?.sha256 ?? null],
    ['kernel', parked.boot?.kernel.sha256 ?? null, asked.boot?.kernel.sha256 ?? null],
  ];
  const wrong = pairs.find(([, a, b]) => a !== b);
  return wrong ? `its ${wrong[0]} is ${JSON.stringify(wrong[1])} there, ${JSON.stringify(wrong[2])} in the service's workload` : null;
}

/**
 * Puts `from` at `to` (a hard link when `link` and both are on one filesystem, else a copy) and
 * fsyncs it; the size and sha256 are of what is at `to`.
 */
async function place(from: string, to: string, sync: Syncer, link: boolean): Promise<{ bytes: number; sha256: string; copied: boolean }> {
  if (!existsSync(from)) throw new Error(`${from} is missing`);
  let copied = false;
  const hash = createHash('sha256');
  const linked = link && tryLink(from, to);
  if (linked) {
    for await (const chunk of createReadStream(to)) hash.update(chunk as Buffer);
  } else {
    copied = true;
    await pipeline(createReadStream(from), async function* (source) {
      for await (const chunk of source) {
        hash.update(chunk as Buffer);
        yield chunk as Buffer;
      }
    }, createWriteStream(to, { mode: 0o600 }));
  }
  sync.file(to);
  return { bytes: statSync(to).size, sha256: hash.digest('hex'), copied };
}

/** A hard link, or false where the filesystem cannot make one between the two (another device, no links). */
function tryLink(from: string, to: string): boolean {
  try {
    linkSync(from, to);
    return true;
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'EXDEV' || code === 'EPERM' || code === 'ENOTSUP' || code === 'EMLINK') return false;
    throw e;
  }
}
