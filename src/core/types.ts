// The lease model shared by the core, the simulator and (later) the service.
// Times are integer seconds; resources are per node.

export type LeaseKind = 'best-effort' | 'immediate' | 'exact' | 'urgent' | 'deadline' | 'periodic';

export interface Resources {
  cpu: number;
  memoryMiB: number;
  diskMiB: number;
  /** Network bandwidth per VM in Mbit/s, each way; absent: not limited. Enforced on the node (a tc shaper on the VM's taps). */
  bandwidthMbps?: number;
  /** Disk throughput per VM in MB/s (10^6 bytes), reads and writes together; absent: not limited (QEMU block throttling). */
  diskMBps?: number;
  /** Disk operations per second per VM, reads and writes together; absent: not limited (QEMU block throttling). */
  diskIops?: number;
}

export interface NodeSpec extends Resources {
  id: string;
}

export interface ImageRef {
  id: string;
  sizeMiB: number;
}

/** How a periodic lease repeats: every `period` seconds, `count` times or while starts are before `until`. */
export interface Recurrence {
  period: number;
  count?: number;
  until?: number;
  /** Accept the occurrences that fit even if some do not (otherwise all or nothing). */
  acceptPartial?: boolean;
}

/** The networks a cluster role's VMs join: the site's public network, and the cluster's own private one. */
export type NetworkName = 'public' | 'private';

export const NETWORK_NAMES: readonly NetworkName[] = ['public', 'private'];

/**
 * One role of a cluster lease: `count` VMs of one shape and image, on distinct nodes (VMs of
 * different roles may share a node). What its members provide and require are context entries:
 * `provides` names entries of this role's own (every member also provides `ip`, `hostname` and
 * `host-key` unasked); `requires` names another role's entry as `ROLE.ENTRY`.
 */
export interface ClusterRole {
  name: string;
  count: number;
  perNode: Resources;
  image?: ImageRef;
  networks: readonly NetworkName[];
  provides: readonly string[];
  requires: readonly string[];
  /** How many members must come up with their context for the role to be up; all of them (count) when absent. */
  minCount?: number;
}

/** What a client asks for. `realDuration` is only known to a simulation. */
export interface LeaseRequest {
  id: string;
  kind: LeaseKind;
  arrival: number;
  /**
   * Exact start for `exact`, the first occurrence's for `periodic`, the earliest start for
   * `deadline` (null: from arrival); null otherwise.
   */
  requestedStart: number | null;
  duration: number;
  realDuration?: number;
  nodes: number;
  perNode: Resources;
  image?: ImageRef;
  preemptible: boolean;
  deadline?: number;
  recurrence?: Recurrence;
  /**
   * A cluster lease: its VMs by role, co-allocated (they start, stop, suspend, resume and move
   * together). `nodes` is then the sum of the counts and `perNode` the largest of each resource
   * over the roles, so that anything that reads only those over-reserves rather than overcommits.
   */
  roles?: readonly ClusterRole[];
  /** A simulated workload's changes of this lease while it lives (LWF <change>): a service never has any. */
  changes?: readonly TimedChange[];
  /** The lease's own cloud-init user-data, as given: the scheduler ignores it, the guests' seeds carry it. */
  userData?: string;
  /** OpenSSH public keys for the VMs' authorized_keys (the scheduler ignores them). */
  sshPublicKeys?: readonly string[];
  /**
   * Which of the site's back-ends runs the lease (backends.ts): absent, the site's own pool. A
   * service that chooses for the client writes its choice here before the request is logged.
   */
  backend?: string;
  /**
   * A best-effort lease the site let wait on the pool: if it has not begun by `at`, it moves to
   * back-end `backend` (where the policy found room when it arrived), should that one take it then.
   */
  burst?: { backend: string; at: number };
}

/** What an owner asks to change of a live lease (lease-change.ts); absent fields stay as they are. `duration` is the whole run asked for, as when the lease was requested. */
export interface LeaseChange {
  duration?: number;
  /** A scheduled exact lease's new start. */
  start?: number;
  nodes?: number;
  cpu?: number;
  memoryMiB?: number;
  /** Network bandwidth per VM, Mbit/s, leased where nodes lease it (bandwidth.ts) and shaped on the node. */
  bandwidthMbps?: number;
  /** A simulation's: how long the workload now really runs (LeaseRequest.realDuration); a service never knows it. */
  realDuration?: number;
  /** A cluster lease's members by role name (its workers, say): the roles not named keep their counts. */
  roles?: Readonly<Record<string, number>>;
  /**
   * Another back-end of the site to move the lease to (backend-moves.ts): only a lease renegotiating
   * a broken promise moves, taking the offer its site made it there.
   */
  backend?: string;
}

/** A change a simulated workload asks for at `at` (LWF's <change>): the simulator makes it then, if it can be made. */
export interface TimedChange {
  at: number;
  change: LeaseChange;
}

export type SegmentKind = 'transfer' | 'boot' | 'run' | 'shutdown' | 'suspend' | 'resume' | 'migrate';

export const SEGMENT_KINDS: readonly SegmentKind[] = [
  'transfer', 'boot', 'run', 'shutdown', 'suspend', 'resume', 'migrate',
];

export type RejectReason = 'insufficient-capacity' | 'exceeds-pool' | 'too-late' | 'invalid' | 'policy';

/** A lease's outcome in a schedule export; 'pending': it has not ended yet (a live service's export). */
export type Outcome = 'completed' | 'rejected' | 'cancelled' | 'pending';

/**
 * Why the core says no, as a value (never an exception): a lease refused (RejectReason), or an
 * action on a lease or node that cannot be done. Exceptions are kept for bugs.
 * - not-found: no such lease or node;
 * - duplicate: a lease with this id was already submitted;
 * - wrong-state: the lease is not in a state that allows it (not running, not held, ended, ...);
 * - unsupported: the lease's kind cannot be treated so (holding a best-effort lease);
 * - policy (a RejectReason): the rules forbid it for this kind (suspending or moving a reservation);
 * - node-unavailable: a node named for it takes no new work (draining or lost).
 */
export type RefusalCode = RejectReason | 'not-found' | 'duplicate' | 'wrong-state' | 'unsupported' | 'node-unavailable';

export interface Refusal {
  ok: false;
  code: RefusalCode;
  message: string;
}

/** What a core action answers: done (with what it returns), or refused with a code. */
export type Done<T extends object = object> = ({ ok: true } & T) | Refusal;

export const refusal = (code: RefusalCode, message: string): Refusal => ({ ok: false, code, message });
