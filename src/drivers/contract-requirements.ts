// Which tests of the driver contract suite (test/drivers/driver-contract.ts) a driver must pass,
// from the capabilities it declares: every driver passes the base tests; each capability calls for
// the tests of what it promises; each capability left out calls for a test that the driver refuses
// that operation with an UnsupportedOperation. A new driver is done when it passes this selection.

import { ALL_CAPABILITIES, type Capability } from './capabilities.ts';

export interface ContractTest {
  title: string;
  /** Run when the driver declares all of these ... */
  needs: readonly Capability[];
  /** ... and none of these. */
  lacks?: readonly Capability[];
}

const refusal = (c: Capability, op: string): ContractTest => ({ title: `refuses ${op} with an UnsupportedOperation naming ${c}, and changes nothing`, needs: [], lacks: [c] });

export const CONTRACT_TESTS = {
  'start-stop': { title: 'start one VM on its node, see it take an address, stop it; onChange reports each transition in order', needs: [] },
  'start-again': { title: 'starting a running VM again changes nothing', needs: [] },
  'stop-again': { title: 'stopping an unknown or already stopped VM resolves', needs: [] },
  'independent-vms': { title: 'VMs keep independent states, and status() lists exactly the live ones', needs: [] },
  'suspend-resume': { title: 'suspend and resume one VM on its node; onChange reports each transition in order', needs: ['suspendToFile'] },
  'illegal-in-state': { title: "suspend and resume illegal in the VM's state reject with a DriverError and change nothing", needs: ['suspendToFile'] },
  'cold-migration': { title: 'a suspended VM migrated to the other node resumes there; a running one or one to its own node is refused', needs: ['suspendToFile', 'coldMigration'] },
  'live-migration': { title: 'a running VM migrated live to the other node runs there with an address; one to its own node is refused', needs: ['liveMigration'] },
  'scratch-disk': { title: 'a VM with a scratch disk runs, and suspends and resumes with it where the driver suspends', needs: ['scratchDisks'] },
  'enforced-limits': { title: 'a VM with bandwidth and disk I/O limits runs, and suspends and resumes with them where the driver suspends; one with a limit out of bounds is refused with a permanent DriverError naming it, and nothing runs', needs: ['enforceLimits'] },
  'refuses-suspend': refusal('suspendToFile', 'suspend and resume'),
  'refuses-cold-migration': refusal('coldMigration', 'migrate'),
  'refuses-live-migration': refusal('liveMigration', 'liveMigrate'),
  'refuses-scratch-disk': refusal('scratchDisks', 'a start with a scratch disk'),
  // Not a refusal: limits are a ceiling, and a back-end that cannot enforce them runs the VM unshaped (as before limits existed).
  'ignores-limits': { title: 'a VM whose spec carries bandwidth and disk I/O limits runs all the same, unenforced', needs: [], lacks: ['enforceLimits'] },
} as const satisfies Record<string, ContractTest>;

export type ContractTestId = keyof typeof CONTRACT_TESTS;

/** The contract tests a driver with these capabilities must pass, in the suite's order. */
export function contractTestsFor(capabilities: ReadonlySet<Capability>): ContractTestId[] {
  return (Object.entries(CONTRACT_TESTS) as Array<[ContractTestId, ContractTest]>)
    .filter(([, t]) => t.needs.every((c) => capabilities.has(c)) && (t.lacks ?? []).every((c) => !capabilities.has(c)))
    .map(([id]) => id);
}

/** Per capability, the tests it calls for when declared and when left out (for docs and reports). */
export function testsByCapability(): Record<Capability, { declared: ContractTestId[]; leftOut: ContractTestId[] }> {
  const entries = Object.entries(CONTRACT_TESTS) as Array<[ContractTestId, ContractTest]>;
  return Object.fromEntries(ALL_CAPABILITIES.map((c) => [c, {
    declared: entries.filter(([, t]) => t.needs.includes(c)).map(([id]) => id),
    leftOut: entries.filter(([, t]) => (t.lacks ?? []).includes(c)).map(([id]) => id),
  }])) as Record<Capability, { declared: ContractTestId[]; leftOut: ContractTestId[] }>;
}
