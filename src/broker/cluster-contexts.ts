// Connects cluster leases to the context broker: a cluster is registered once its VMs are being
// deployed (or when the first of its seeds is made, whichever comes first: a seed needs the
// member's secret) and forgotten when its lease ends. Both are idempotent and both are done again
// from the store after a restart, so a crash between deploying and registering (or between ending
// and forgetting) leaves nothing behind.

import type { ContextBroker } from './broker.ts';
import { clusterRegistration, memberIdOf } from './registration.ts';
import type { ContextView, StepTimeouts } from './types.ts';
import type { EventRow, LeaseRow, LeaseStatus, Store } from '../store/store.ts';
import type { LeaseService } from '../control/lease-service.ts';
import { done, refuse, type Result } from '../control/refusal.ts';
import { memberAt, workspaceNaming } from '../control/workspace-names.ts';

/** A lease whose VMs are gone for good: its context is forgotten. */
const ENDED: ReadonlySet<LeaseStatus> = new Set(['done', 'cancelled', 'rejected', 'failed']);
/** A lease whose VMs have been (or are being) made: its context must be there for their seeds. */
const DEPLOYED: ReadonlySet<LeaseStatus> = new Set(['deploying', 'running', 'suspending', 'suspended', 'resuming', 'ending']);

export interface ClusterContextOptions {
  /** Each context step's timeout (the broker's defaults otherwise): tests set short ones. */
  timeouts?: Partial<StepTimeouts>;
}

export class ClusterContexts {
  private readonly pending = new Set<Promise<unknown>>();
  private sink: ((leaseId: string, type: string, data: unknown) => Promise<void>) | null = null;
  /** One registration or forgetting at a time per lease: a forget must not slip between ensure's read and its register. */
  private readonly queues = new Map<string, Promise<unknown>>();

  constructor(private readonly store: Store, readonly broker: ContextBroker, private readonly options: ClusterContextOptions = {}) {}

  /** Registers the lease's cluster unless it is registered already, ended, or not a cluster. */
  ensure(leaseId: string): Promise<Result<void>> {
    return this.serial(leaseId, async () => {
      if (this.broker.view(leaseId)) return done(undefined);
      const row = await this.store.getLease(leaseId);
      if (!row?.request.roles || ENDED.has(row.status)) return done(undefined);
      const registered = await this.broker.register(registrationOf(row, this.options.timeouts));
      return registered.ok ? done(undefined) : registered;
    });
  }

  /** Forgets the lease's context (it ended). */
  forget(leaseId: string): Promise<boolean> {
    return this.serial(leaseId, () => this.broker.forget(leaseId));
  }

  /**
   * A fresh one-time secret for workspace `index` of a cluster lease, registering the cluster
   * first if need be; null for a VM that is not a cluster member.
   */
  async secretFor(leaseId: string, index: number): Promise<Result<{ memberId: string; secret: string } | null>> {
    const row = await this.store.getLease(leaseId);
    const m = row?.request.roles ? memberAt(row.request.roles, index) : null;
    if (!m) return done(null);
    const ensured = await this.ensure(leaseId);
    if (!ensured.ok) return ensured;
    if (!this.broker.view(leaseId)) return refuse('wrong-state', `lease '${leaseId}' has ended: its members get no context`);
    const memberId = memberIdOf(m.role, m.member);
    const issued = await this.broker.issueSecret(leaseId, memberId);
    return issued.ok ? done({ memberId, secret: issued.value.secret }) : issued;
  }

  /**
   * Follows the service's lease events (registers as a cluster deploys, forgets as it ends) and
   * writes its contexts' settling into the lease's stream; then catches up with what it missed.
   */
  async watch(service: Pick<LeaseService, 'onEvent' | 'leaseEvent'>): Promise<() => void> {
    this.sink = (leaseId, type, data) => service.leaseEvent(leaseId, type, data);
    const stop = service.onEvent((e) => this.heard(e));
    await this.catchUp();
    return () => {
      stop();
      this.sink = null;
    };
  }

  /** The broker's onSettled: the lease's stream hears that its context is complete, or failed and why. */
  settled(view: ContextView): void {
    const e = settledEvent(view);
    if (this.sink) this.track(this.sink(view.leaseId, e.type, e.data));
  }

  /** Follows the lease events: registers as a cluster deploys, forgets as it ends. */
  heard(e: EventRow): void {
    if (e.type !== 'lease.status' || !e.leaseId) return;
    const to = (e.data as { to?: LeaseStatus }).to;
    if (to && ENDED.has(to)) this.track(this.forget(e.leaseId));
    else if (to && DEPLOYED.has(to)) this.track(this.ensure(e.leaseId).then((r) => this.unregistered(e.leaseId!, r)));
  }

  /** After a restart: contexts of leases that ended meanwhile are forgotten, deployed clusters registered. */
  async catchUp(): Promise<void> {
    for (const c of await this.store.listContexts()) {
      const row = await this.store.getLease(c.leaseId);
      if (!row || ENDED.has(row.status)) await this.forget(c.leaseId);
    }
    for (const status of DEPLOYED) {
      for (const row of await this.store.listLeases({ status })) if (row.request.roles) await this.ensure(row.id);
    }
  }

  /** A cluster the broker refused is said in its lease's stream: its members' seeds will say so too, but the owner should hear why. */
  private async unregistered(leaseId: string, r: Result<void>): Promise<void> {
    if (!r.ok && this.sink) await this.sink(leaseId, 'lease.context-failed', { status: 'failed', reason: `its cluster could not be registered with the context broker: ${r.message}`, roles: [] });
  }

  /** Resolves once what the events started is done (tests wait on this). */
  async idle(): Promise<void> {
    // The broker's own timers (a step's deadline passing) write too, and may settle a cluster here.
    do {
      while (this.pending.size > 0) await Promise.all(this.pending);
      await this.broker.idle();
    } while (this.pending.size > 0);
  }

  private serial<T>(leaseId: string, fn: () => Promise<T>): Promise<T> {
    const run = (this.queues.get(leaseId) ?? Promise.resolve()).then(fn, fn);
    const settled = run.catch(() => undefined);
    this.queues.set(leaseId, settled);
    void settled.then(() => { if (this.queues.get(leaseId) === settled) this.queues.delete(leaseId); });
    return run;
  }

  private track(p: Promise<unknown>): void {
    const kept = p.catch(() => undefined).finally(() => this.pending.delete(kept));
    this.pending.add(kept);
  }
}

/** The lease's registration: its roles, a member per workspace (the host name its row shows), the owner's keys. */
export function registrationOf(row: LeaseRow, timeouts?: Partial<StepTimeouts>) {
  const roles = row.request.roles!;
  const count = roles.reduce((n, r) => n + r.count, 0);
  const placed = Array.from({ length: count }, (_, i) => {
    const w = workspaceNaming(row.id, i, roles);
    return { role: w.role!, index: w.member!, hostname: w.hostname };
  });
  return clusterRegistration(row.id, roles, placed, row.request.sshPublicKeys ?? [], {}, timeouts);
}

/** The event the lease's stream gets when its context settles: complete, or failed with the reason. */
export function settledEvent(view: ContextView): { type: string; data: unknown } {
  return {
    type: `lease.context-${view.status}`,
    data: { status: view.status, reason: view.reason, roles: view.roles.map((r) => ({ name: r.name, status: r.status, reported: r.reported, done: r.done, failed: r.failed })) },
  };
}
