// What a driver can do beyond starting, listing and stopping VMs. Back-ends differ here in ways the
// scheduler must know before it plans: a cloud instance cannot be suspended to a file and carried
// to another host, a batch pilot may not resume on another node. A driver declares the set; the
// service plans only what it includes (src/control/driver-fit.ts) and the driver refuses the rest.

export const CAPABILITIES = {
  suspendToFile: "suspend() writes a running VM's memory to a file on its node and resume() continues it from there",
  coldMigration: "migrate() carries a suspended VM's saved state and disks to another node, where it resumes",
  liveMigration: 'liveMigrate() moves a running VM to another node, memory and disks, while it keeps running',
  scratchDisks: "start() gives a VM the blank disk of VmSpec.scratchMiB for its lease's data",
  enforceLimits: "start() holds a VM to the bandwidth and disk I/O limits its VmSpec carries (leased-limits.ts), and refuses limits out of their bounds",
} as const satisfies Record<string, string>;

export type Capability = keyof typeof CAPABILITIES;

export const ALL_CAPABILITIES = Object.keys(CAPABILITIES) as Capability[];

/** Capabilities that make no sense without another: what a cold migration carries is the suspended state. */
const NEEDS: Partial<Record<Capability, Capability>> = { coldMigration: 'suspendToFile' };

export function isCapability(name: string): name is Capability {
  return Object.hasOwn(CAPABILITIES, name);
}

/** Why a declared set cannot be (a capability that needs one left out), or null. */
export function capabilitiesProblem(declared: ReadonlySet<Capability>): string | null {
  for (const c of declared) {
    const needs = NEEDS[c];
    if (needs && !declared.has(needs)) return `${c} needs ${needs}: declare both or neither`;
  }
  return null;
}

/** A set from names, refusing unknown ones with the list of known ones. */
export function capabilitySet(names: readonly string[]): ReadonlySet<Capability> {
  const unknown = names.filter((n) => !isCapability(n));
  if (unknown.length > 0) throw new RangeError(`unknown driver capabilities ${unknown.join(', ')}: known ones are ${ALL_CAPABILITIES.join(', ')}`);
  const set = new Set(names as Capability[]);
  const problem = capabilitiesProblem(set);
  if (problem) throw new RangeError(problem);
  return set;
}
