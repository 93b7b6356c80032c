// Batch jobs and VM leases sharing one cluster through pilots (issue 19 item 4): one event loop
// over the batch model (batch/batch-cluster.ts, standing for Slurm) and the real vws scheduler.
//
// vws's pool has a slot for every node of the batch cluster, each gone (departed) but while a
// pilot job holds it: a pilot's start sets its nodes' departure at the job's end; the batch
// system's preemption signal brings it forward to the signal plus the grace time; a pilot that
// exits sooner (let go idle, or preempted with nothing left on its nodes) brings it to then. A
// node is never lost at a pilot's end: by its departure every VM there has finished or been
// suspended into the depot (suspendedState 'depot'), from which it resumes on any later pilot.
// The slots are in the pool from the start, each gone, rather than added pilot by pilot: the
// scheduler refuses a lease larger than its open nodes ('exceeds-pool'), and a lease that comes
// while few pilots run must wait for more, not be refused.

import type { SchedulerConfig } from '../core/config.ts';
import type { LeaseRecord } from '../core/lease-record.ts';
import { hasEnded } from '../core/lease-record.ts';
import { pilotDecision, type PilotPolicy, pilotPolicyProblem, type PilotView } from '../core/pilot-policy.ts';
import { Scheduler } from '../core/scheduler.ts';
import type { Segment } from '../core/segment.ts';
import type { Done, LeaseRequest, NodeSpec, Resources } from '../core/types.ts';
import { BatchCluster, type BatchJob, type BatchStep } from './batch/batch-cluster.ts';
import { EarlyEnds, mustEndEarly } from './early-ends.ts';
import { realWorkOf } from './real-work.ts';
import { type ChangeOutcome, WorkloadChanges } from './workload-changes.ts';

export interface PilotSimInput {
  /** Nodes of the batch cluster, each of `node`'s shape. */
  clusterNodes: number;
  node: Resources;
  batch: readonly BatchJob[];
  /** The VM leases: best-effort, run on pilots only. */
  leases: readonly LeaseRequest[];
  policy: PilotPolicy;
  /** vws's scheduler configuration; suspended state is kept in a depot whatever it says. */
  config: SchedulerConfig;
  /** Hears what became of each change the VM leases ask for (LeaseRequest.changes). */
  onChange?: (o: ChangeOutcome) => void;
}

/** When one node was vws's: a pilot held it over [start, end). */
export interface Tenure {
  node: number;
  pilot: string;
  start: number;
  end: number;
}

export interface PilotSimResult {
  batch: BatchCluster;
  scheduler: Scheduler;
  /** vws's pool: one slot per batch node, b1..bN. */
  nodes: NodeSpec[];
  tenures: Tenure[];
  pilots: { submitted: number; started: number; preempted: number; released: number; timeLimit: number };
}

interface Pilot {
  id: string;
  nodes: number[];
  start: number | null;
  end: number;
  idleSince: number | null;
  signalled: boolean;
  /** Let go at this instant: gone from the batch system at its next step. */
  leaving: boolean;
}

/** More rounds than this at one instant means the two sides keep answering each other: a bug. */
const ROUNDS_PER_INSTANT = 100;

function mustDo(r: Done): void {
  if (!r.ok) throw new RangeError(r.message);
}

export function simulatePilots(input: PilotSimInput): PilotSimResult {
  const problem = pilotPolicyProblem(input.policy);
  if (problem) throw new RangeError(`pilot policy: ${problem}`);
  // A lease no set of pilots could hold at once would have pilots asked for and let go for ever.
  const { maxPilots, nodesPerPilot } = input.policy;
  const most = Math.min(maxPilots, Math.floor(input.clusterNodes / nodesPerPilot)) * nodesPerPilot;
  for (const l of input.leases) {
    if (l.nodes > most) throw new RangeError(`VM lease ${l.id} asks for ${l.nodes} nodes; at most ${most} pilots' nodes run at once (${maxPilots} pilots of ${nodesPerPilot} nodes on a cluster of ${input.clusterNodes}): leave it out or change the policy`);
    const { cpu, memoryMiB } = l.perNode;
    if (cpu > input.node.cpu || memoryMiB > input.node.memoryMiB) throw new RangeError(`VM lease ${l.id} asks for VMs of ${cpu} CPU and ${memoryMiB} MiB; a node has ${input.node.cpu} CPU and ${input.node.memoryMiB} MiB`);
  }
  return new PilotLoop(input).run();
}

class PilotLoop {
  private readonly batch: BatchCluster;
  private readonly scheduler: Scheduler;
  private readonly nodes: NodeSpec[];
  private readonly config: SchedulerConfig;
  private readonly pilots = new Map<string, Pilot>();
  private readonly tenures: Tenure[] = [];
  private readonly counts = { submitted: 0, started: 0, preempted: 0, released: 0, timeLimit: 0 };
  private readonly earlyEnds = new EarlyEnds();
  private readonly changes = new WorkloadChanges(() => this.config.runtimeOverheadPercent);
  private readonly requests: LeaseRequest[];
  private alive: LeaseRecord[] = [];
  private nextRequest = 0;
  private pilotSeq = 0;

  constructor(private readonly input: PilotSimInput) {
    this.config = { ...input.config, suspendedState: 'depot' };
    this.nodes = Array.from({ length: input.clusterNodes }, (_, i) => ({ id: `b${i + 1}`, ...input.node }));
    this.scheduler = new Scheduler(this.nodes, this.config);
    this.batch = new BatchCluster(input.clusterNodes, input.policy.graceSeconds, input.batch);
    this.requests = [...input.leases].sort((a, b) => a.arrival - b.arrival);
    const start = Math.min(this.requests[0]?.arrival ?? 0, ...input.batch.map((b) => b.submit), 0);
    this.scheduler.advance(start);
    this.batch.advance(start);
    for (let n = 0; n < this.nodes.length; n++) mustDo(this.scheduler.departNode(n, start, start));
  }

  run(): PilotSimResult {
    for (;;) {
      const arrival = this.nextRequest < this.requests.length ? this.requests[this.nextRequest].arrival : Infinity;
      const now = Math.min(arrival, this.scheduler.nextEventTime(), this.earlyEnds.nextTime(), this.changes.nextTime(), this.batch.nextEventTime(), this.nextIdleExpiry());
      if (now === Infinity) break;
      for (let run = this.earlyEnds.takeNext(now); run !== undefined; run = this.earlyEnds.takeNext(now)) {
        const lease = this.scheduler.lease(run.leaseId)!;
        if (mustEndEarly(lease, run, now, this.workOf(lease))) mustDo(this.scheduler.finishEarly(run.leaseId, now));
      }
      while (this.nextRequest < this.requests.length && this.requests[this.nextRequest].arrival === now) {
        const req = this.requests[this.nextRequest++];
        mustDo(this.scheduler.submit(req, now));
        this.changes.heard(req);
        this.alive.push(this.scheduler.lease(req.id)!);
      }
      this.advanceScheduler(now);
      if (this.changes.nextTime() === now) {
        this.expectEnds(this.changes.makeDue(this.scheduler, now, this.input.onChange), now);
        this.advanceScheduler(now);
      }
      this.settle(now);
    }
    return { batch: this.batch, scheduler: this.scheduler, nodes: this.nodes, tenures: this.tenures, pilots: this.counts };
  }

  /** Lets the two sides answer each other at `now` until neither has more to do. */
  private settle(now: number): void {
    for (let round = 0; ; round++) {
      if (round === ROUNDS_PER_INSTANT) throw new Error(`the batch model and vws did not settle at ${now} in ${ROUNDS_PER_INSTANT} rounds`);
      const step = this.batch.advance(now);
      const moved = this.applyBatch(step, now);
      this.advanceScheduler(now);
      if (!this.actOnPilots(now) && !moved) return;
    }
  }

  private applyBatch(step: BatchStep, now: number): boolean {
    // Ends first: a node let go at this instant may be a new pilot's already.
    for (const s of step.pilotsEnded) {
      const p = this.pilots.get(s.id)!;
      this.pilots.delete(s.id);
      if (s.why === 'time-limit') this.counts.timeLimit++;
      if (p.start === null) continue;
      for (const n of p.nodes) {
        if (this.scheduler.departureOf(n) > now) mustDo(this.scheduler.departNode(n, now, now));
        if (!this.scheduler.nodeIsIdle(n)) throw new Error(`pilot ${p.id} left node ${this.nodes[n].id} at ${now} with a lease still on it`);
        this.tenures.push({ node: n, pilot: p.id, start: p.start, end: now });
      }
    }
    for (const s of step.pilotsStarted) {
      const p = this.pilots.get(s.id)!;
      p.nodes = s.nodes;
      p.start = now;
      p.end = s.end;
      this.counts.started++;
      for (const n of s.nodes) mustDo(this.scheduler.departNode(n, s.end, now));
    }
    for (const s of step.pilotsSignalled) {
      const p = this.pilots.get(s.id)!;
      p.signalled = true;
      p.end = Math.min(p.end, s.deadline);
      this.counts.preempted++;
      for (const n of p.nodes) if (this.scheduler.departureOf(n) > p.end) mustDo(this.scheduler.departNode(n, p.end, now));
    }
    return step.pilotsStarted.length + step.pilotsSignalled.length + step.pilotsEnded.length + step.batchStarted.length > 0;
  }

  private readonly workOf = (lease: LeaseRecord): number => realWorkOf(lease.req, this.config);

  /** Runs that began, or that a change made longer or shorter: each ends early when its real work is done. */
  private expectEnds(runs: readonly Segment[], changedAt?: number): void {
    this.earlyEnds.expectRuns(runs, this.scheduler, this.workOf, changedAt);
  }

  private advanceScheduler(now: number): void {
    this.expectEnds(this.scheduler.advance(now).started);
    for (const p of this.pilots.values()) {
      if (p.start === null) continue;
      const idle = p.nodes.every((n) => this.scheduler.nodeIsIdle(n));
      p.idleSince = idle ? (p.idleSince ?? now) : null;
    }
  }

  /** Pilots that go (signalled and empty, or idle past the timeout) and pilots to ask for; whether anything changed. */
  private actOnPilots(now: number): boolean {
    let changed = false;
    for (const p of this.pilots.values()) {
      if (p.signalled && p.idleSince !== null && !p.leaving) {
        this.batch.releasePilot(p.id, now);
        p.leaving = true;
        changed = true;
      }
    }
    const views: PilotView[] = [...this.pilots.values()].filter((p) => !p.leaving).map((p) => ({
      id: p.id, state: p.start === null ? 'pending' : 'running', nodes: p.start === null ? this.input.policy.nodesPerPilot : p.nodes.length,
      endsAt: p.start === null ? null : p.end, idleSince: p.idleSince, signalled: p.signalled,
    }));
    const waiting = this.waiting().map((l) => ({ nodes: l.req.nodes, perNode: l.req.perNode }));
    const decision = pilotDecision(now, waiting, views, this.input.policy, this.input.node);
    for (const id of decision.release) {
      const p = this.pilots.get(id)!;
      for (const n of p.nodes) mustDo(this.scheduler.departNode(n, now, now));
      this.batch.releasePilot(id, now);
      p.leaving = true;
      this.counts.released++;
      changed = true;
    }
    for (const s of decision.submit) {
      const id = `pilot-${++this.pilotSeq}`;
      this.pilots.set(id, { id, nodes: [], start: null, end: Infinity, idleSince: null, signalled: false, leaving: false });
      this.batch.submitPilot({ id, nodes: s.nodes, timeLimit: s.timeLimitSeconds }, now);
      this.counts.submitted++;
      changed = true;
    }
    return changed;
  }

  /** The VM leases no node holds or is planned to: what pilots are asked for. */
  private waiting(): LeaseRecord[] {
    this.alive = this.alive.filter((l) => !hasEnded(l));
    return this.alive.filter((l) => l.chain.length === 0 && !l.parked);
  }

  /** The next instant an idle pilot's timeout runs out; one that ran out already was kept for a lease that waits, and is asked about at the next event. */
  private nextIdleExpiry(): number {
    let t = Infinity;
    const now = this.scheduler.time;
    for (const p of this.pilots.values()) {
      const at = p.idleSince === null || p.signalled ? Infinity : p.idleSince + this.input.policy.idleTimeoutSeconds;
      if (at > now) t = Math.min(t, at);
    }
    return t;
  }
}
