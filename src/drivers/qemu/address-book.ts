// The addresses of the VM network: one per VM, handed out by the service (the agents' DHCP
// servers only give out what they are told), and one per node bridge. Kept in a file so that a
// VM keeps its address across restarts of the service: a snapshot, and a journal of the changes
// since (one appended line each), folded into the snapshot when the book is opened. Rewriting the
// whole book at every VM start was half of a 2,000-node pool's start time (bench:agents).

import { appendFileSync, existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';

interface Book {
  network: string;
  vms: Record<string, string>;
  nodes: Record<string, string>;
}

/** The first addresses are left for routers and services a site may put on the network. */
const FIRST_VM_HOST = 10;

function parseCidr(cidr: string): { base: number; prefix: number } {
  const m = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})\/(\d{1,2})$/.exec(cidr);
  const octets = m ? m.slice(1, 5).map(Number) : [];
  const prefix = m ? Number(m[5]) : NaN;
  if (!m || octets.some((o) => o > 255) || prefix < 16 || prefix > 28) {
    throw new RangeError(`the VM network must be an IPv4 network A.B.C.D/P with 16 <= P <= 28, got '${cidr}'`);
  }
  const address = octets.reduce((a, o) => a * 256 + o, 0);
  const size = 2 ** (32 - prefix);
  return { base: address - (address % size), prefix };
}

const dotted = (n: number): string => [24, 16, 8, 0].map((s) => Math.floor(n / 2 ** s) % 256).join('.');

export class AddressBook {
  private readonly base: number;
  readonly prefix: number;
  private readonly size: number;
  private readonly book: Book;

  /** Every address handed out, and the lowest VM host number and highest node host number that may be free. */
  private readonly used = new Set<string>();
  private vmHint = FIRST_VM_HOST;
  private nodeHint: number;

  constructor(readonly network: string, private readonly file: string) {
    ({ base: this.base, prefix: this.prefix } = parseCidr(network));
    this.size = 2 ** (32 - this.prefix);
    this.nodeHint = this.size - 2;
    const saved = existsSync(file) ? (JSON.parse(readFileSync(file, 'utf8')) as Book) : null;
    if (saved && saved.network !== network) {
      throw new RangeError(`${file} hands out addresses of ${saved.network}, not ${network}: keep the network, or move the file away once no VM uses it`);
    }
    this.book = saved ?? { network, vms: {}, nodes: {} };
    if (existsSync(this.journal)) {
      for (const line of readFileSync(this.journal, 'utf8').split('\n')) {
        let change: { kind: 'vms' | 'nodes'; key: string; address: string | null };
        try {
          change = JSON.parse(line);
        } catch {
          continue; // empty, or cut short by a crash before it was acknowledged
        }
        if (change.address === null) delete this.book[change.kind][change.key];
        else this.book[change.kind][change.key] = change.address;
      }
    }
    for (const a of [...Object.values(this.book.vms), ...Object.values(this.book.nodes)]) this.used.add(a);
    if (saved || existsSync(this.journal)) this.compact();
  }

  private get journal(): string {
    return `${this.file}.journal`;
  }

  /** The VM's address, given to it the first time it is asked for. */
  vm(id: string): string {
    return this.book.vms[id] ?? this.take(id, 'vms', FIRST_VM_HOST, 1);
  }

  /** The node bridge's address: from the top of the network, so that it never meets a VM's. */
  node(name: string): string {
    return this.book.nodes[name] ?? this.take(name, 'nodes', this.size - 2, -1);
  }

  release(id: string): void {
    const address = this.book.vms[id];
    if (address === undefined) return;
    delete this.book.vms[id];
    this.used.delete(address);
    this.vmHint = Math.min(this.vmHint, this.hostOf(address));
    this.note('vms', id, null);
  }

  /** The lowest free address from the bottom for VMs, the highest from the top for node bridges, as before the hints. */
  private take(key: string, kind: 'vms' | 'nodes', from: number, step: 1 | -1): string {
    const start = kind === 'vms' ? Math.max(from, this.vmHint) : Math.min(from, this.nodeHint);
    for (let host = start; host > 0 && host < this.size - 1; host += step) {
      const address = dotted(this.base + host);
      if (this.used.has(address)) continue;
      this.book[kind][key] = address;
      this.used.add(address);
      if (kind === 'vms') this.vmHint = host + 1;
      else this.nodeHint = host - 1;
      this.note(kind, key, address);
      return address;
    }
    throw new RangeError(`the VM network ${this.network} has no address left for ${key}: use a larger network`);
  }

  private hostOf(address: string): number {
    return address.split('.').reduce((a, o) => a * 256 + Number(o), 0) - this.base;
  }

  private note(kind: 'vms' | 'nodes', key: string, address: string | null): void {
    mkdirSync(dirname(this.file), { recursive: true });
    appendFileSync(this.journal, `${JSON.stringify({ kind, key, address })}\n`);
  }

  /** The book as one snapshot, written whole and renamed into place, and an empty journal. */
  private compact(): void {
    mkdirSync(dirname(this.file), { recursive: true });
    const tmp = `${this.file}.${process.pid}.tmp`;
    writeFileSync(tmp, JSON.stringify(this.book));
    renameSync(tmp, this.file);
    rmSync(this.journal, { force: true });
  }
}
