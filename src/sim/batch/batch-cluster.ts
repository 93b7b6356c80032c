// A model of a batch system (it stands for Slurm; it is not vws): whole nodes, FCFS with EASY
// backfilling on requested times, and two tiers: batch jobs, and pilot jobs that are preemptable.
//
// Simplifications, as a model: nodes are identical and whole-node allocated; a job's nodes are the
// lowest free indices; batch jobs are planned with their requested time and end after their real
// run time; a pilot runs until its time limit unless it exits (released by vws) or is preempted.
// To the batch tier a pilot's node is a free node that takes up to the grace time to hand over:
// a batch job that EASY would start now takes free nodes first, then the nodes of pilots already
// signalled, then signals more pilots (the youngest first: the latest started, which have run
// the least) and starts when the last of its nodes is handed over, at most G seconds later.
// EASY's shadow time leaves that handover out (a backfilled job may delay the head by up to G).
// Pilots queue FCFS among themselves and start on free nodes only, past any batch reservation:
// they are preemptable, so they delay no batch job by more than G.

import { nodesToTake, type Planned, shadowOf } from './easy.ts';

export interface BatchJob {
  id: string;
  submit: number;
  nodes: number;
  /** What the job asked for (SWF field 9): what EASY plans with. */
  requested: number;
  /** How long it really runs (SWF field 4, at least 1 s, at most `requested`). */
  runtime: number;
}

export interface PilotRequest {
  id: string;
  nodes: number;
  timeLimit: number;
}

export type PilotEnd = 'time-limit' | 'preempted' | 'released';

/** What happened to pilots and batch jobs at one instant. */
export interface BatchStep {
  pilotsStarted: Array<{ id: string; nodes: number[]; start: number; end: number }>;
  /** A batch job needs these pilots' nodes: each must be gone by `deadline` (signal + grace). */
  pilotsSignalled: Array<{ id: string; deadline: number }>;
  pilotsEnded: Array<{ id: string; why: PilotEnd }>;
  batchStarted: string[];
}

/** One job's life in the model, for metrics and for checking the model's invariants. */
export interface JobRecord {
  id: string;
  tier: 'batch' | 'pilot';
  submit: number;
  nodes: number[];
  /** When the model decided to start it (a batch job may then wait up to G for pilots to go). */
  decided: number | null;
  start: number | null;
  end: number | null;
  /** Started while an earlier batch job waited (EASY backfilling). */
  backfilled: boolean;
  endedBy?: PilotEnd;
}

interface Live {
  rec: JobRecord;
  /** Batch: start + runtime; pilot: start + time limit. */
  realEnd: number;
  /** Batch: start + requested (EASY's plan). */
  plannedEnd: number;
  runtime: number;
  requested: number;
  /** How many nodes it asked for. */
  want: number;
  signalledAt: number | null;
  /** Nodes a batch job still waits for (held by pilots that were signalled). */
  awaiting: number;
}

const FREE = -1;

export class BatchCluster {
  readonly size: number;
  readonly grace: number;
  /** Per node: the index (into `jobs`) of the job holding it, or FREE. */
  private readonly holder: Int32Array;
  /** Per node held by a signalled pilot: the batch job it goes to, or FREE (then it frees). */
  private readonly claim: Int32Array;
  private readonly jobs: Live[] = [];
  private readonly byId = new Map<string, number>();
  private readonly submits: BatchJob[];
  private nextSubmit = 0;
  private readonly batchQueue: number[] = [];
  private readonly pilotQueue: number[] = [];
  private readonly running = new Set<number>();
  private now = 0;
  private step: BatchStep = emptyStep();

  constructor(size: number, graceSeconds: number, batch: readonly BatchJob[]) {
    if (!Number.isInteger(size) || size < 1) throw new RangeError(`a batch cluster has a whole number of nodes >= 1, got ${size}`);
    if (!(graceSeconds >= 0)) throw new RangeError(`the grace time is seconds >= 0, got ${graceSeconds}`);
    this.size = size;
    this.grace = graceSeconds;
    this.holder = new Int32Array(size).fill(FREE);
    this.claim = new Int32Array(size).fill(FREE);
    this.submits = [...batch].sort((a, b) => a.submit - b.submit);
    for (const j of this.submits) {
      if (j.nodes > size) throw new RangeError(`batch job ${j.id} asks for ${j.nodes} nodes; the cluster has ${size}: leave it out or give a larger cluster`);
    }
  }

  get time(): number {
    return this.now;
  }

  /** Every job so far, batch and pilot, in submission order. */
  records(): JobRecord[] {
    return this.jobs.map((j) => j.rec);
  }

  record(id: string): JobRecord | undefined {
    const i = this.byId.get(id);
    return i === undefined ? undefined : this.jobs[i].rec;
  }

  /** Whether batch work remains: jobs still to be submitted, queued or running. */
  get batchBusy(): boolean {
    return this.nextSubmit < this.submits.length || this.batchQueue.length > 0 || [...this.running].some((i) => this.jobs[i].rec.tier === 'batch');
  }

  /** Queues a pilot job at `now`; it starts at the next advance if free nodes allow. */
  submitPilot(p: PilotRequest, now: number): void {
    this.mustBeAt(now);
    if (this.byId.has(p.id)) throw new RangeError(`job id '${p.id}' was already submitted`);
    if (!(p.nodes >= 1 && p.nodes <= this.size)) throw new RangeError(`pilot ${p.id} asks for ${p.nodes} nodes; the cluster has ${this.size}`);
    const i = this.add({ id: p.id, tier: 'pilot', submit: now, nodes: [], decided: null, start: null, end: null, backfilled: false }, p.nodes, p.timeLimit, p.timeLimit);
    this.pilotQueue.push(i);
  }

  /** The pilot exits (vws let it go) or, still queued, is withdrawn; its nodes are free at once. */
  releasePilot(id: string, now: number): void {
    this.mustBeAt(now);
    const i = this.byId.get(id);
    if (i === undefined || this.jobs[i].rec.tier !== 'pilot') throw new RangeError(`no pilot '${id}'`);
    const q = this.pilotQueue.indexOf(i);
    if (q >= 0) {
      this.pilotQueue.splice(q, 1);
      this.jobs[i].rec.endedBy = 'released';
      return;
    }
    if (this.running.has(i)) this.finish(i, this.jobs[i].signalledAt === null ? 'released' : 'preempted');
  }

  /** The next instant something happens by itself: a submission, an end, a grace time running out. */
  nextEventTime(): number {
    let t = this.nextSubmit < this.submits.length ? this.submits[this.nextSubmit].submit : Infinity;
    for (const i of this.running) {
      const j = this.jobs[i];
      t = Math.min(t, j.realEnd, j.signalledAt === null ? Infinity : j.signalledAt + this.grace);
    }
    return t;
  }

  /** Applies what happens at `now` (ends, submissions, starts) and answers what became of pilots. */
  advance(now: number): BatchStep {
    if (now < this.now) throw new RangeError(`time went backwards: ${now} < ${this.now}`);
    this.now = now;
    for (const i of [...this.running]) {
      const j = this.jobs[i];
      if (j.realEnd <= now) this.finish(i, 'time-limit');
      else if (j.signalledAt !== null && j.signalledAt + this.grace <= now) this.finish(i, 'preempted');
    }
    while (this.nextSubmit < this.submits.length && this.submits[this.nextSubmit].submit <= now) {
      const b = this.submits[this.nextSubmit++];
      this.batchQueue.push(this.add({ id: b.id, tier: 'batch', submit: b.submit, nodes: [], decided: null, start: null, end: null, backfilled: false }, b.nodes, b.requested, b.runtime));
    }
    this.scheduleBatch();
    this.startPilots();
    const out = this.step;
    this.step = emptyStep();
    return out;
  }

  private add(rec: JobRecord, want: number, requested: number, runtime: number): number {
    const i = this.jobs.length;
    this.jobs.push({ rec, realEnd: Infinity, plannedEnd: Infinity, runtime, requested, want, signalledAt: null, awaiting: 0 });
    this.byId.set(rec.id, i);
    return i;
  }

  private finish(i: number, why: PilotEnd): void {
    const j = this.jobs[i];
    j.rec.end = this.now;
    this.running.delete(i);
    if (j.rec.tier === 'pilot') {
      j.rec.endedBy = why;
      this.step.pilotsEnded.push({ id: j.rec.id, why });
    }
    for (const n of j.rec.nodes) {
      const to = this.claim[n];
      this.claim[n] = FREE;
      this.holder[n] = to;
      if (to !== FREE && --this.jobs[to].awaiting === 0) this.begin(to);
    }
  }

  /** A batch job whose every node is in hand starts now. */
  private begin(i: number): void {
    const j = this.jobs[i];
    j.rec.start = this.now;
    j.realEnd = this.now + j.runtime;
    j.plannedEnd = this.now + j.requested;
    this.step.batchStarted.push(j.rec.id);
  }

  /** Nodes a batch job could have now: free ones and those of pilots not yet given to another batch job. */
  private availableNodes(): number[] {
    const out: number[] = [];
    for (let n = 0; n < this.size; n++) {
      const h = this.holder[n];
      if (h === FREE || (this.jobs[h].rec.tier === 'pilot' && this.claim[n] === FREE)) out.push(n);
    }
    return out;
  }

  private scheduleBatch(): void {
    let available = this.availableNodes();
    let shadow: { time: number; extra: number } | null = null;
    for (let q = 0; q < this.batchQueue.length; ) {
      const i = this.batchQueue[q];
      const j = this.jobs[i];
      const fits = j.rec.nodes.length === 0 && available.length >= j.want;
      if (shadow === null && !fits) {
        shadow = shadowOf(this.now, j.want, available.length, this.plannedBatch());
        q++;
        continue;
      }
      if (!fits) { q++; continue; }
      if (shadow !== null) {
        const endsInTime = this.now + j.requested <= shadow.time;
        if (!endsInTime && j.want > shadow.extra) { q++; continue; }
        if (!endsInTime) shadow.extra -= j.want;
        j.rec.backfilled = true;
      }
      this.batchQueue.splice(q, 1);
      available = this.claimFor(i, available);
    }
  }

  /** The running (and starting) batch jobs as EASY plans them: nodes and planned end. */
  private plannedBatch(): Planned[] {
    const out: Planned[] = [];
    for (const i of this.running) {
      const j = this.jobs[i];
      if (j.rec.tier !== 'batch') continue;
      out.push({ nodes: j.rec.nodes.length, end: j.rec.start === null ? this.now + this.grace + j.requested : j.plannedEnd });
    }
    return out;
  }

  /** Gives batch job i its nodes out of `available`; answers those left. */
  private claimFor(i: number, available: number[]): number[] {
    const j = this.jobs[i];
    const want = j.want;
    const { take, signal } = nodesToTake(available, want, (n) => this.pilotOf(n));
    j.rec.nodes = take;
    j.rec.decided = this.now;
    this.running.add(i);
    const taken = new Set(take);
    for (const p of signal) {
      const pilot = this.jobs[p];
      if (pilot.signalledAt !== null) continue;
      pilot.signalledAt = this.now;
      this.step.pilotsSignalled.push({ id: pilot.rec.id, deadline: this.now + this.grace });
    }
    for (const n of take) {
      if (this.holder[n] === FREE) this.holder[n] = i;
      else {
        this.claim[n] = i;
        j.awaiting++;
      }
    }
    if (j.awaiting === 0) this.begin(i);
    return available.filter((n) => !taken.has(n));
  }

  /** The pilot holding node n, with its start and whether it was signalled; null for a free node. */
  private pilotOf(n: number): { index: number; start: number; signalled: boolean } | null {
    const h = this.holder[n];
    if (h === FREE) return null;
    const p = this.jobs[h];
    return { index: h, start: p.rec.start!, signalled: p.signalledAt !== null };
  }

  private startPilots(): void {
    const free: number[] = [];
    for (let n = 0; n < this.size; n++) if (this.holder[n] === FREE) free.push(n);
    for (let q = 0; q < this.pilotQueue.length && free.length > 0; ) {
      const i = this.pilotQueue[q];
      const j = this.jobs[i];
      if (free.length >= j.want) {
        this.pilotQueue.splice(q, 1);
        const nodes = free.splice(0, j.want);
        j.rec.nodes = nodes;
        j.rec.decided = this.now;
        j.rec.start = this.now;
        j.realEnd = this.now + j.runtime;
        j.plannedEnd = j.realEnd;
        for (const n of nodes) this.holder[n] = i;
        this.running.add(i);
        this.step.pilotsStarted.push({ id: j.rec.id, nodes, start: this.now, end: j.realEnd });
      } else q++;
    }
  }

  private mustBeAt(now: number): void {
    if (now !== this.now) throw new RangeError(`the batch cluster is at ${this.now}, not ${now}: advance it first`);
  }
}

function emptyStep(): BatchStep {
  return { pilotsStarted: [], pilotsSignalled: [], pilotsEnded: [], batchStarted: [] };
}
