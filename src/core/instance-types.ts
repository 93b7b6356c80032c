// A cloud's instance types, the one a VM of a given shape gets, and what EC2 bills for it: the EC2
// driver launches and bills by these, and the simulator prices burst leases by them (pure arithmetic).

export interface InstanceType {
  name: string;
  cpu: number;
  memoryMiB: number;
  /** In the site's currency per hour, as EC2 bills it (per second, 60 s minimum). */
  pricePerHour: number;
}

/** The smallest type that fits (fewest CPUs, then least memory, then cheapest), or why none does. */
export function typeFor(types: readonly InstanceType[], cpu: number, memoryMiB: number): InstanceType | string {
  const fits = types.filter((t) => t.cpu >= cpu && t.memoryMiB >= memoryMiB)
    .sort((a, b) => a.cpu - b.cpu || a.memoryMiB - b.memoryMiB || a.pricePerHour - b.pricePerHour);
  if (fits[0]) return fits[0];
  const largest = types.map((t) => `${t.name} (${t.cpu} CPU, ${t.memoryMiB} MiB)`).join(', ');
  return `no instance type of the site fits ${cpu} CPU and ${memoryMiB} MiB: the types are ${largest}; ask for a smaller shape`;
}

/** EC2 bills a started instance at least this long. */
export const MINIMUM_SECONDS = 60;

/** The charge for `seconds` of an instance at `pricePerHour`: whole seconds, at least a minute. */
export function ec2Charge(seconds: number, pricePerHour: number): number {
  if (!Number.isFinite(seconds) || seconds < 0) throw new RangeError(`an instance cannot run ${seconds} seconds`);
  const billed = Math.max(MINIMUM_SECONDS, Math.ceil(seconds));
  return (billed * pricePerHour) / 3600;
}
