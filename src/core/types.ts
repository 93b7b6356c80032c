// The lease model shared by the core, the simulator and (later) the service.
// Times are integer seconds; resources are per node.

export type LeaseKind = 'best-effort' | 'immediate' | 'exact' | 'urgent' | 'deadline' | 'periodic';

export interface Resources {
  cpu: number;
  memoryMiB: number;
  diskMiB: number;
}

export interface NodeSpec extends Resources {
  id: string;
}

export interface ImageRef {
  id: string;
  sizeMiB: number;
}

/** What a client asks for. `realDuration` is only known to a simulation. */
export interface LeaseRequest {
  id: string;
  kind: LeaseKind;
  arrival: number;
  /** Exact start for `exact` (and each occurrence of `periodic`); null otherwise. */
  requestedStart: number | null;
  duration: number;
  realDuration?: number;
  nodes: number;
  perNode: Resources;
  image?: ImageRef;
  preemptible: boolean;
  deadline?: number;
}

export type SegmentKind = 'transfer' | 'boot' | 'run' | 'shutdown' | 'suspend' | 'resume' | 'migrate';

export const SEGMENT_KINDS: readonly SegmentKind[] = [
  'transfer', 'boot', 'run', 'shutdown', 'suspend', 'resume', 'migrate',
];

export type RejectReason = 'insufficient-capacity' | 'exceeds-pool' | 'too-late' | 'invalid' | 'policy';

export type Outcome = 'completed' | 'rejected' | 'cancelled';
