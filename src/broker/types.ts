// What the context broker knows about one cluster: what was registered when its VMs were
// deployed (the spec) and how far each member has come (its progress). Plain values, so that the
// rules (rules.ts) stay pure and the store keeps them as JSON: their shapes live beside the store
// (store/context-records.ts), which sits below the broker.
import type { ContextSpec, MemberProgress, StepTimeouts } from '../store/context-records.ts';

export type { BrokerMember, BrokerRole, ContextSpec, MemberProgress, Provided, RoleFile, StepTimeouts } from '../store/context-records.ts';

export const DEFAULT_TIMEOUTS: StepTimeouts = { exchange: 600, report: 300, context: 900, done: 300 };

export const FRESH: MemberProgress = {
  exchangedAt: null, reportedAt: null, provided: null, deliveredAt: null, doneAt: null, failedAt: null, failure: null,
};

/** One cluster: its spec and each member's progress, by member id. */
export interface ClusterContext {
  spec: ContextSpec;
  progress: ReadonlyMap<string, MemberProgress>;
}

export type ContextStatus = 'pending' | 'complete' | 'failed';

export type MemberStep = 'exchange' | 'report' | 'context' | 'done' | 'complete' | 'failed';

/** The owner's view of one cluster's context (GET /v1/leases/:id/context). */
export interface ContextView {
  leaseId: string;
  status: ContextStatus;
  /** The first failure, when failed. */
  reason: string | null;
  roles: Array<{
    name: string;
    count: number;
    minCount: number;
    status: ContextStatus;
    reported: number;
    done: number;
    failed: number;
    members: Array<{ id: string; index: number; hostname: string; step: MemberStep; waitsFor: string[]; failure: string | null }>;
  }>;
}
