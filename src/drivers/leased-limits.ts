// What a lease may give each of its VMs besides CPUs, memory and disk space: network bandwidth and
// disk I/O. Optional: a lease without them runs its VMs unshaped and unthrottled, as before these
// existed. The bounds are one table for the API's schemas (src/api/schemas.ts), the agent protocol's
// (qemu/agent-messages.ts) and the agent's own check before it shapes a tap or throttles a disk.

/** The per-VM limits a lease may ask for; each absent one is no limit. */
export interface LeasedLimits {
  /** Network bandwidth in Mbit/s (10^6 bits), each way: what the VM sends, and what it receives. */
  bandwidthMbps?: number;
  /** Disk throughput in MB/s (10^6 bytes), reads and writes together, over all the VM's disks. */
  diskMBps?: number;
  /** Disk operations per second, reads and writes together, over all the VM's disks. */
  diskIops?: number;
}

export const LIMIT_FIELDS = ['bandwidthMbps', 'diskMBps', 'diskIops'] as const satisfies ReadonlyArray<keyof LeasedLimits>;

/**
 * Each limit's bounds. The floors are where a VM still works at all (a guest below 10 IOPS takes
 * minutes to boot; below 100 kbit/s DHCP and the context broker time out); the ceilings are far
 * past any node's hardware, so they only keep absurd numbers out.
 */
/** The most bandwidth a node may lease to its VMs, Mbit/s (a 10 Tbit/s host: beyond any NIC there is). */
export const MOST_NODE_BANDWIDTH_MBPS = 10_000_000;

export const LIMIT_BOUNDS = {
  bandwidthMbps: { minimum: 0.1, maximum: 100_000, integer: false, unit: 'Mbit/s', description: 'network bandwidth per VM in Mbit/s, each way (what it sends and what it receives); absent: not shaped' },
  diskMBps: { minimum: 0.1, maximum: 100_000, integer: false, unit: 'MB/s', description: 'disk throughput per VM in MB/s (10^6 bytes), reads and writes together over its disks; absent: not throttled' },
  diskIops: { minimum: 10, maximum: 10_000_000, integer: true, unit: 'IOPS', description: 'disk operations per second per VM, reads and writes together over its disks; absent: not throttled' },
} as const satisfies Record<keyof LeasedLimits, { minimum: number; maximum: number; integer: boolean; unit: string; description: string }>;

/** What is wrong with a limit (by its path under `at`), or null; unknown fields are not this function's business. */
export function limitsProblem(limits: Partial<Record<keyof LeasedLimits, unknown>>, at: string): string | null {
  for (const field of LIMIT_FIELDS) {
    const v = limits[field];
    if (v === undefined) continue;
    const b = LIMIT_BOUNDS[field];
    const ok = typeof v === 'number' && Number.isFinite(v) && v >= b.minimum && v <= b.maximum && (!b.integer || Number.isInteger(v));
    if (!ok) return `${at}.${field} must be ${b.integer ? 'a whole number' : 'a number'} from ${b.minimum} to ${b.maximum} (${b.unit}), got ${JSON.stringify(v)}: give one in range, or leave it out for no limit`;
  }
  return null;
}

/** The limits `from` names, and no other field: what goes from a lease's shape onto each of its VMs. */
export function limitsOf(from: LeasedLimits): LeasedLimits {
  const out: LeasedLimits = {};
  for (const field of LIMIT_FIELDS) if (from[field] !== undefined) out[field] = from[field];
  return out;
}
