// A cluster lease's context as its owner sees it with the lease (GET /v1/leases/:id): each
// workspace's context state, and each role's progress, from the broker's view. A lease whose
// context the broker does not hold (not a cluster, not deployed yet, or ended) shows none.

import type { ContextBroker } from '../broker/broker.ts';
import { memberIdOf } from '../broker/registration.ts';
import type { ContextView } from '../broker/types.ts';
import type { WorkspaceRow } from '../store/store.ts';

export interface WorkspaceContext {
  state: 'pending' | 'complete' | 'failed';
  /** Why it failed; null otherwise. */
  reason: string | null;
  /** What it still waits for, while pending. */
  waitsFor: string[];
}

/** The lease's context summary: its status and each role's progress; each member's own state is on its workspace. */
export function contextSummary(view: ContextView) {
  return {
    status: view.status, reason: view.reason,
    roles: view.roles.map((r) => ({ name: r.name, count: r.count, minCount: r.minCount, status: r.status, reported: r.reported, done: r.done, failed: r.failed })),
  };
}

/** Each workspace with its context state, and the lease's summary; the rows as they are when the broker holds no context for it. */
export function withContext(broker: ContextBroker | undefined, leaseId: string, rows: WorkspaceRow[]): { workspaces: unknown[]; context?: ReturnType<typeof contextSummary> } {
  const view = broker?.view(leaseId);
  if (!view) return { workspaces: rows };
  const members = new Map(view.roles.flatMap((r) => r.members.map((m) => [m.id, m] as const)));
  const workspaces = rows.map((w) => {
    const m = w.role !== null && w.member !== null ? members.get(memberIdOf(w.role, w.member)) : undefined;
    if (!m) return w;
    const state: WorkspaceContext['state'] = m.step === 'complete' ? 'complete' : m.step === 'failed' ? 'failed' : 'pending';
    const context: WorkspaceContext = { state, reason: m.failure, waitsFor: state === 'pending' ? m.waitsFor : [] };
    return { ...w, context };
  });
  return { workspaces, context: contextSummary(view) };
}
