// The service's book of cluster private networks: each cluster lease gets a network number (which
// names its bridges and is its VNI's offset), a subnet of its own from the site's private range,
// and each member a private MAC and address; each node that holds members an address of its own
// on the subnet for its DHCP server. All of it is released when the cluster ends. Kept in a file,
// like the public AddressBook, so that a cluster keeps its network across service restarts.
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';

export interface ClusterNet {
  number: number;
  vni: number;
  /** The cluster's subnet, e.g. 10.200.3.0/24. */
  cidr: string;
  prefix: number;
}

interface Entry {
  number: number;
  members: Record<string, string>;
  nodes: Record<string, string>;
}

interface Book {
  range: string;
  clusterPrefix: number;
  vniBase: number;
  clusters: Record<string, Entry>;
}

export interface ClusterAddressOptions {
  /** The private range clusters' subnets are cut from, e.g. 10.200.0.0/16. */
  range: string;
  /** Each cluster's subnet prefix, e.g. 24: 256 clusters of 244 members in a /16. */
  clusterPrefix: number;
  /** VNI = vniBase + network number; a site keeps its other VXLANs below it. */
  vniBase: number;
}

export const DEFAULT_CLUSTER_ADDRESSES: ClusterAddressOptions = { range: '10.200.0.0/16', clusterPrefix: 24, vniBase: 10_000 };

/** Members' addresses start here, like the public network's: the first are left for the site. */
const FIRST_MEMBER_HOST = 10;
/**
 * Every node holding members has this host address on its cluster bridge too, where its context
 * relay answers: one address for the whole cluster, so that the URL a seed is made with once stays
 * right wherever the members run later.
 */
const CONTEXT_HOST = 1;
const MAX_VNI = 0xff_ffff;

const dotted = (n: number): string => [24, 16, 8, 0].map((s) => Math.floor(n / 2 ** s) % 256).join('.');

function parseRange(range: string, clusterPrefix: number): { base: number; prefix: number } {
  const m = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})\/(\d{1,2})$/.exec(range);
  const octets = m ? m.slice(1, 5).map(Number) : [];
  const prefix = m ? Number(m[5]) : NaN;
  if (!m || octets.some((o) => o > 255) || !(prefix >= 8 && prefix <= 28)) throw new RangeError(`the cluster range must be an IPv4 network A.B.C.D/P with 8 <= P <= 28, got '${range}'`);
  // From 16: a member's MAC carries the last two bytes of its address (see memberMac).
  if (!Number.isInteger(clusterPrefix) || clusterPrefix < Math.max(prefix, 16) || clusterPrefix > 28) {
    throw new RangeError(`a cluster's prefix must be an integer from ${Math.max(prefix, 16)} to 28 in ${range}, got ${clusterPrefix}`);
  }
  const address = octets.reduce((a, o) => a * 256 + o, 0);
  const size = 2 ** (32 - prefix);
  return { base: address - (address % size), prefix };
}

/** Whether two IPv4 networks A.B.C.D/P share an address (both already checked by their books). */
export function networksOverlap(a: string, b: string): boolean {
  const bounds = (cidr: string): [number, number] => {
    const [address, prefix] = cidr.split('/');
    const n = address.split('.').reduce((x, o) => x * 256 + Number(o), 0);
    const size = 2 ** (32 - Number(prefix));
    const base = n - (n % size);
    return [base, base + size - 1];
  };
  const [a0, a1] = bounds(a);
  const [b0, b1] = bounds(b);
  return a0 <= b1 && b0 <= a1;
}

export class ClusterAddressBook {
  private readonly base: number;
  private readonly clusterSize: number;
  private readonly capacity: number;
  private readonly book: Book;

  constructor(readonly options: ClusterAddressOptions, private readonly file: string) {
    const { base, prefix } = parseRange(options.range, options.clusterPrefix);
    if (!Number.isInteger(options.vniBase) || options.vniBase < 0 || options.vniBase >= MAX_VNI) throw new RangeError(`the VNI base must be an integer from 0 to ${MAX_VNI - 1}, got ${options.vniBase}`);
    this.base = base;
    this.clusterSize = 2 ** (32 - options.clusterPrefix);
    // Numbers from 1; a number's VNI must fit 24 bits and its MAC prefix 3 bytes (see memberMac).
    this.capacity = Math.min(2 ** (options.clusterPrefix - prefix), MAX_VNI - options.vniBase, 0xff_ffff);
    const saved = existsSync(file) ? (JSON.parse(readFileSync(file, 'utf8')) as Book) : null;
    if (saved && (saved.range !== options.range || saved.clusterPrefix !== options.clusterPrefix || saved.vniBase !== options.vniBase)) {
      throw new RangeError(`${file} hands out ${saved.range} in /${saved.clusterPrefix} (VNI base ${saved.vniBase}): keep those settings, or move the file away once no cluster runs`);
    }
    this.book = saved ?? { range: options.range, clusterPrefix: options.clusterPrefix, vniBase: options.vniBase, clusters: {} };
  }

  /** The cluster's network, assigned the first time it is asked for. */
  cluster(lease: string): ClusterNet {
    const entry = this.entry(lease);
    return { number: entry.number, vni: this.options.vniBase + entry.number, cidr: `${dotted(this.subnetBase(entry.number))}/${this.options.clusterPrefix}`, prefix: this.options.clusterPrefix };
  }

  /** The cluster's network if it has one already (without assigning one). */
  known(lease: string): ClusterNet | undefined {
    return lease in this.book.clusters ? this.cluster(lease) : undefined;
  }

  /** The cluster's context address (the relay's, on every node with members): its subnet's first host. */
  contextAddress(lease: string): string {
    return dotted(this.subnetBase(this.entry(lease).number) + CONTEXT_HOST);
  }

  /** A member's private address and MAC. */
  member(lease: string, vm: string): { ip: string; mac: string } {
    const entry = this.entry(lease);
    const ip = entry.members[vm] ?? this.take(lease, entry, 'members', vm, FIRST_MEMBER_HOST, 1);
    return { ip, mac: memberMac(entry.number, ip) };
  }

  /** A node's address on the cluster's subnet (its DHCP server's): from the top, like bridges'. */
  node(lease: string, node: string): string {
    const entry = this.entry(lease);
    return entry.nodes[node] ?? this.take(lease, entry, 'nodes', node, this.clusterSize - 2, -1);
  }

  /** A member leaves: its address may go to another. */
  releaseMember(lease: string, vm: string): void {
    const entry = this.book.clusters[lease];
    if (!entry || !(vm in entry.members)) return;
    delete entry.members[vm];
    this.save();
  }

  /** The cluster ended: its number, subnet and every address in it are free again. */
  release(lease: string): void {
    if (!(lease in this.book.clusters)) return;
    delete this.book.clusters[lease];
    this.save();
  }

  private entry(lease: string): Entry {
    const known = this.book.clusters[lease];
    if (known) return known;
    const used = new Set(Object.values(this.book.clusters).map((e) => e.number));
    for (let number = 1; number <= this.capacity; number++) {
      if (used.has(number)) continue;
      const entry: Entry = { number, members: {}, nodes: {} };
      this.book.clusters[lease] = entry;
      this.save();
      return entry;
    }
    throw new RangeError(`the cluster range ${this.options.range} has no /${this.options.clusterPrefix} left for cluster ${lease}: use a larger range or a longer cluster prefix`);
  }

  private subnetBase(number: number): number {
    return this.base + (number - 1) * this.clusterSize;
  }

  private take(lease: string, entry: Entry, kind: 'members' | 'nodes', key: string, from: number, step: 1 | -1): string {
    const used = new Set([...Object.values(entry.members), ...Object.values(entry.nodes)]);
    // Above CONTEXT_HOST: a node counting down never takes the context address.
    for (let host = from; host > CONTEXT_HOST && host < this.clusterSize - 1; host += step) {
      const address = dotted(this.subnetBase(entry.number) + host);
      if (used.has(address)) continue;
      entry[kind][key] = address;
      this.save();
      return address;
    }
    throw new RangeError(`cluster ${lease}'s subnet /${this.options.clusterPrefix} has no address left for ${key}: use a shorter cluster prefix`);
  }

  private save(): void {
    mkdirSync(dirname(this.file), { recursive: true });
    const tmp = `${this.file}.${process.pid}.tmp`;
    writeFileSync(tmp, JSON.stringify(this.book));
    renameSync(tmp, this.file);
  }
}

/**
 * A member's MAC: locally administered unicast (0a:...), the network number in three bytes and the
 * host part of the address in two, so that it is unique across all clusters without a record.
 */
export function memberMac(number: number, ip: string): string {
  const host = ip.split('.').map(Number).slice(2);
  const bytes = [0x0a, (number >> 16) & 255, (number >> 8) & 255, number & 255, host[0], host[1]];
  return bytes.map((b) => b.toString(16).padStart(2, '0')).join(':');
}
