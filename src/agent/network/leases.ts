// Which guest holds which address, from dnsmasq's lease file, and a watcher that tells when a guest
// takes a lease.
//
// Polling the lease file rather than a --dhcp-script: the file is dnsmasq's own record and outlives
// an agent restart, so a restarted agent reads the truth instead of needing every event replayed to
// it; a script would need an executable on disk and a channel back to an agent that may be down when
// it runs. A lease is worth reporting within a second, and reading a small file twice a second costs
// nothing.
import { readFileSync } from 'node:fs';

export interface Lease {
  mac: string;
  ip: string;
  /** Unix seconds; 0 for an infinite lease. */
  expires: number;
  hostname?: string;
}

/** Lines are `EXPIRY MAC IP HOSTNAME CLIENT-ID`; anything else (DHCPv6's duid line) is skipped. */
export function parseLeases(text: string): Lease[] {
  const leases: Lease[] = [];
  for (const line of text.split('\n')) {
    const [expiry, mac, ip, hostname] = line.trim().split(/\s+/);
    if (!/^[0-9]+$/.test(expiry ?? '') || !/^[0-9a-f]{2}(:[0-9a-f]{2}){5}$/i.test(mac ?? '') || !/^[0-9.]+$/.test(ip ?? '')) continue;
    const lease: Lease = { mac: mac.toLowerCase(), ip, expires: Number(expiry) };
    if (hostname && hostname !== '*') lease.hostname = hostname;
    leases.push(lease);
  }
  return leases;
}

/** mac -> ip of the leases that have not expired (dnsmasq keeps expired ones until it next prunes). */
export function activeLeases(text: string, nowSeconds = Date.now() / 1000): Map<string, string> {
  const active = new Map<string, string>();
  for (const l of parseLeases(text)) if (l.expires === 0 || l.expires > nowSeconds) active.set(l.mac, l.ip);
  return active;
}

export function readLeases(file: string): Map<string, string> {
  try {
    return activeLeases(readFileSync(file, 'utf8'));
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return new Map();
    throw e;
  }
}

export type LeaseListener = (mac: string, ip: string) => void;

export class LeaseWatcher {
  private readonly listeners = new Set<LeaseListener>();
  /** What listeners know: mac -> ip, announced or already held when watching began. */
  private readonly known = new Map<string, string>();
  /** Known MACs the last read did not show. */
  private readonly missing = new Set<string>();
  private timer?: NodeJS.Timeout;

  constructor(
    private readonly file: string,
    private readonly pollMs = 500,
  ) {}

  /** Calls `listener` for each lease taken from now on, and when a guest's address changes. */
  subscribe(listener: LeaseListener): () => void {
    if (!this.timer) {
      // Leases held before anyone listened are not news: leases() gives them.
      this.known.clear();
      this.missing.clear();
      for (const [mac, ip] of readLeases(this.file)) this.known.set(mac, ip);
      this.timer = setInterval(() => this.poll(), this.pollMs);
      // An agent that forgot close() should still be able to exit.
      this.timer.unref();
    }
    this.listeners.add(listener);
    return () => {
      this.listeners.delete(listener);
      if (this.listeners.size === 0) this.stop();
    };
  }

  /** Makes the next lease of `mac` news again, even at the same address (a new VM reusing a MAC). */
  forget(mac: string): void {
    this.known.delete(mac);
    this.missing.delete(mac);
  }

  stop(): void {
    clearInterval(this.timer);
    this.timer = undefined;
    this.listeners.clear();
  }

  poll(): void {
    const current = readLeases(this.file);
    for (const mac of [...this.known.keys()]) {
      if (current.has(mac)) {
        this.missing.delete(mac);
      } else if (this.missing.has(mac)) {
        // Gone from two reads in a row: really gone. One read is not enough because dnsmasq
        // rewrites the file in place (truncate, then write), so a read can land on an empty file.
        this.forget(mac);
      } else {
        this.missing.add(mac);
      }
    }
    const news: Array<[string, string]> = [];
    for (const [mac, ip] of current) {
      if (this.known.get(mac) === ip) continue;
      this.known.set(mac, ip);
      news.push([mac, ip]);
    }
    for (const [mac, ip] of news) for (const listener of [...this.listeners]) listener(mac, ip);
  }
}
