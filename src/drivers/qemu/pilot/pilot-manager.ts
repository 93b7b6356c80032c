// The pilots' manager: it asks the batch system for pilot jobs when leases wait (the policy in
// core/pilot-policy.ts decides how many), admits their agents as nodes that leave when their job
// ends, moves the VMs off a node whose batch system takes it back, lets idle pilots go, and retires
// the nodes of pilots that have ended. Slurm is the record of the pilots: every round reads them
// back by job name, so a restarted or newly elected service finds them as they are.

import { pilotDecision, type PilotView } from '../../../core/pilot-policy.ts';
import type { NodeRow } from '../../../store/store.ts';
import type { PoolControl } from '../../pool-control.ts';
import type { AgentHub } from '../agent-hub.ts';
import type { PilotHooks } from '../agent-pool.ts';
import type { NodeReport } from '../protocol.ts';
import type { PilotConfig } from './pilot-config.ts';
import type { PilotJob, SlurmClient } from './slurm-client.ts';

export interface PilotManagerOptions {
  config: PilotConfig;
  slurm: SlurmClient;
  hub: Pick<AgentHub, 'isConnected' | 'call'>;
  /** The pool's node rows (the pilots' nodes among them). */
  nodes: () => Promise<NodeRow[]>;
  /** How many VMs the node's agent still has (a suspension or a park still under way counts). */
  vmsOn: (node: string) => number;
  /** The batch script every pilot runs (pilot-script.ts). */
  script: string;
  /** Where the pilots' output files go (sbatch's --output, %j the job id). */
  output: string;
  /** Epoch seconds. */
  now: () => number;
  log: (line: string) => void;
}

/** A pilot as `vws pilot list` shows it: its job, and its nodes in the pool. */
export interface PilotInfo extends PilotJob {
  poolNodes: Array<{ id: string; status: string; departsAt: number | null; leases: number }>;
  idleSince: number | null;
  leaving: boolean;
}

/** Before its job's end, a pilot's node must be empty: the agent's exit and the job's own end take a moment. */
const EXIT_MARGIN_SECONDS = 5;
/** How long an agent told to leave has before its job is cancelled instead. */
const LEAVE_PATIENCE_SECONDS = 60;

export class PilotManager implements PilotHooks {
  private service: PoolControl | null = null;
  private jobs = new Map<string, PilotJob>();
  /** Since when each running pilot's nodes have held nothing. */
  private readonly idleSince = new Map<string, number>();
  /** Pilots whose batch system is taking them back (their signal came). */
  private readonly signalled = new Set<string>();
  /** Pilots let go or drained, and when their agents were told to leave. */
  private readonly releasing = new Map<string, number>();
  /** Nodes whose agents said they are leaving. */
  private readonly leavingNodes = new Set<string>();
  /** Pilots an administrator drained: they take nothing new and go once idle. */
  private readonly drained = new Set<string>();
  private timer: NodeJS.Timeout | null = null;
  private round: Promise<void> | null = null;
  /** Pilots submitted whose agents have not joined yet; one that ends so failed. */
  private readonly unjoined = new Set<string>();
  /** After pilots that ended without their agents joining, none is submitted before this (epoch seconds). */
  private holdUntil = 0;
  private failures = 0;

  constructor(private readonly opts: PilotManagerOptions) {}

  /** The service is open: rounds begin. */
  bind(service: PoolControl): void {
    this.service = service;
    this.timer = setInterval(() => void this.tick(), this.opts.config.pollSeconds * 1000);
    this.timer.unref();
    void this.tick();
  }

  close(): void {
    if (this.timer) clearInterval(this.timer);
  }

  /** One round (rounds never overlap): read the pilots back, submit, let go, retire. */
  tick(): Promise<void> {
    this.round ??= this.roundNow().catch((e: Error) => this.opts.log(`pilots: ${e.message}`)).finally(() => (this.round = null));
    return this.round;
  }

  async admit(node: NodeReport): Promise<number> {
    const id = node.pilot!;
    let job = this.jobs.get(id);
    if (job?.state !== 'RUNNING') job = (await this.readJobs()).get(id);
    if (!job || job.state !== 'RUNNING') throw new Error(`node '${node.name}' says it runs in pilot job ${id}, which is not a running pilot of this site (${this.opts.config.jobName}): the agent must run inside a pilot job vws submitted`);
    const slurmNode = job.nodes.find((n) => node.name === `pilot-${id}-${n}`);
    if (!slurmNode) throw new Error(`node '${node.name}' is not the name of a node of pilot job ${id} (pilot-${id}-NODE, NODE one of ${job.nodes.join(', ')})`);
    const ends = job.endsAt ?? this.opts.now() + this.opts.config.timeLimitSeconds;
    return ends - this.opts.config.graceSeconds;
  }

  leaving(node: string): void {
    const job = /^pilot-([0-9]+)-/.exec(node)?.[1];
    // Said once per node: an agent repeating it (after each redial, or a hostile one) logs no more departures.
    if (!job || !this.service || this.leavingNodes.has(node)) return;
    this.leavingNodes.add(node);
    this.signalled.add(job);
    const at = this.wantedBackBy();
    this.opts.log(`pilot ${job}: the batch system takes node '${node}' back: it leaves the pool at ${at}`);
    void this.service.setNodeDeparture(node, at, true).then((r) => {
      if (!r.ok) this.opts.log(`pilot ${job}: the departure of '${node}' was not set: ${r.message}`);
      return this.tick();
    });
  }

  /** The pilots the batch system knows, with their nodes in the pool. */
  async list(): Promise<PilotInfo[]> {
    const rows = await this.opts.nodes();
    return [...(await this.readJobs()).values()].map((job) => ({
      ...job, idleSince: this.idleSince.get(job.id) ?? null, leaving: this.signalled.has(job.id) || this.releasing.has(job.id),
      poolNodes: rows.filter((r) => r.pilot === job.id).map((r) => ({ id: r.id, status: r.status, departsAt: r.departsAt, leases: this.service?.nodeIsIdle(r.id) === false ? 1 : 0 })),
    }));
  }

  /** The pilot takes no new leases and goes once what runs there has ended. */
  async drain(id: string): Promise<boolean> {
    if (!(await this.readJobs()).has(id)) return false;
    this.drained.add(id);
    for (const row of (await this.opts.nodes()).filter((r) => r.pilot === id && r.status === 'active')) await this.service?.drainNode(row.id);
    await this.tick();
    return true;
  }

  /** The pilot goes now: what runs there is suspended (within the grace time) and resumes on another pilot. */
  async cancel(id: string): Promise<boolean> {
    if (!(await this.readJobs()).has(id)) return false;
    this.signalled.add(id);
    const at = this.wantedBackBy();
    for (const row of (await this.opts.nodes()).filter((r) => r.pilot === id && r.status !== 'removed')) await this.service?.setNodeDeparture(row.id, at, true);
    await this.tick();
    return true;
  }

  /** When a node the batch system wants back now must have left: within its grace time, less the agent's exit. */
  private wantedBackBy(): number {
    return this.opts.now() + this.opts.config.graceSeconds - EXIT_MARGIN_SECONDS;
  }

  private async readJobs(): Promise<Map<string, PilotJob>> {
    this.jobs = new Map((await this.opts.slurm.jobs(this.opts.config.jobName)).map((j) => [j.id, j]));
    return this.jobs;
  }

  private async roundNow(): Promise<void> {
    const service = this.service;
    if (!service) return;
    const { config } = this.opts;
    const now = this.opts.now();
    const jobs = await this.readJobs();
    const rows = await this.opts.nodes();
    const nodesOf = (job: string): NodeRow[] => rows.filter((r) => r.pilot === job && r.status !== 'removed');
    const views: PilotView[] = [];
    for (const job of jobs.values()) {
      if (job.state === 'PENDING' || job.state === 'CONFIGURING') views.push({ id: job.id, state: 'pending', nodes: config.nodesPerPilot, endsAt: null, idleSince: null, signalled: false });
      if (job.state !== 'RUNNING') continue;
      const joined = nodesOf(job.id);
      const idle = joined.length === job.nodes.length && joined.every((r) => service.nodeIsIdle(r.id));
      if (!idle) this.idleSince.delete(job.id);
      else if (!this.idleSince.has(job.id)) this.idleSince.set(job.id, now);
      views.push({ id: job.id, state: 'running', nodes: job.nodes.length, endsAt: job.endsAt, idleSince: this.idleSince.get(job.id) ?? null, signalled: this.signalled.has(job.id) || this.drained.has(job.id) || this.releasing.has(job.id) });
    }
    this.noteFailures(jobs, rows, now);
    const decision = pilotDecision(now, service.waitingLeases(2 * config.pollSeconds), views, config, config.node);
    for (const want of now >= this.holdUntil ? decision.submit : []) {
      const id = await this.opts.slurm.submit({
        name: config.jobName, partition: config.partition, account: config.account, qos: config.qos, nodes: want.nodes,
        timeLimitSeconds: want.timeLimitSeconds, signalSeconds: config.graceSeconds, output: this.opts.output, script: this.opts.script,
      });
      this.unjoined.add(id);
      this.opts.log(`pilot ${id} submitted: ${want.nodes} node(s) for ${want.timeLimitSeconds} s, for leases that wait`);
    }
    for (const id of decision.release) {
      this.opts.log(`pilot ${id} let go: idle since ${this.idleSince.get(id)}`);
      for (const row of nodesOf(id)) if (row.status === 'active') await service.drainNode(row.id);
      this.releasing.set(id, now);
    }
    await this.sendHome(jobs, nodesOf, now);
    await this.retire(jobs, rows);
  }

  /**
   * A pilot that ended before its agents joined failed (its script, its agent, the node): submitting
   * the next at once would flood the batch system with failing jobs. The wait doubles with each such
   * failure (from the poll period to an hour) and is forgotten once a pilot's agent joins.
   */
  private noteFailures(jobs: Map<string, PilotJob>, rows: NodeRow[], now: number): void {
    for (const id of [...this.unjoined]) {
      if (rows.some((r) => r.pilot === id)) {
        this.unjoined.delete(id);
        this.failures = 0;
        this.holdUntil = 0;
        continue;
      }
      const job = jobs.get(id);
      if (job && (job.state === 'PENDING' || job.state === 'CONFIGURING' || job.state === 'RUNNING' || job.state === 'COMPLETING')) continue;
      this.unjoined.delete(id);
      this.failures++;
      const wait = Math.min(3600, this.opts.config.pollSeconds * 2 ** this.failures);
      this.holdUntil = now + wait;
      this.opts.log(`pilot ${id} ended (${job?.state.toLowerCase() ?? 'gone'}${job?.reason && job.reason !== 'None' ? `: ${job.reason}` : ''}) before its agent joined the pool: see its output, ${this.opts.output.replace('%j', id)}; no pilot is submitted for ${wait} s`);
    }
  }

  /** Tells the agents of pilots that are to go, and hold nothing, to leave; cancels a job whose agents do not. */
  private async sendHome(jobs: Map<string, PilotJob>, nodesOf: (job: string) => NodeRow[], now: number): Promise<void> {
    const service = this.service!;
    for (const job of jobs.values()) {
      if (job.state !== 'RUNNING') continue;
      const nodes = nodesOf(job.id);
      const due = this.signalled.has(job.id) || this.releasing.has(job.id) || (this.drained.has(job.id) && nodes.length > 0) || nodes.some((r) => r.departsAt !== null && r.departsAt <= now);
      // Empty by the plan and by what its agent reports: a suspension or a park may take longer than planned.
      if (!due || !nodes.every((r) => service.nodeIsIdle(r.id) && this.opts.vmsOn(r.id) === 0)) continue;
      if (!this.releasing.has(job.id)) this.releasing.set(job.id, now);
      for (const r of nodes) {
        if (!this.opts.hub.isConnected(r.id)) continue;
        await this.opts.hub.call(r.id, 'leave', {}).catch((e: Error) => this.opts.log(`pilot ${job.id}: node '${r.id}' was told to leave: ${e.message}`));
      }
      if (now - this.releasing.get(job.id)! >= LEAVE_PATIENCE_SECONDS) {
        this.opts.log(`pilot ${job.id}: its agents did not leave within ${LEAVE_PATIENCE_SECONDS} s: cancelling the job`);
        await this.opts.slurm.cancel(job.id);
      }
    }
  }

  /** The nodes of pilots whose jobs have ended leave the pool for good (node ids are never reused). */
  private async retire(jobs: Map<string, PilotJob>, rows: NodeRow[]): Promise<void> {
    const service = this.service!;
    for (const row of rows) {
      if (row.pilot === null || row.status === 'removed' || this.opts.hub.isConnected(row.id)) continue;
      const job = jobs.get(row.pilot);
      if (job && (job.state === 'RUNNING' || job.state === 'COMPLETING')) continue;
      // Gone before its leases could be moved (killed, not signalled): once its agent's grace is over
      // the node is lost and they are dealt with as on a lost node; it leaves the pool after that.
      if (!service.nodeIsIdle(row.id)) continue;
      if (row.status !== 'draining') await service.drainNode(row.id);
      const removed = await service.removeNode(row.id);
      if (removed.ok) this.opts.log(`pilot ${row.pilot}: node '${row.id}' left the pool (its job ${job ? job.state.toLowerCase() : 'is over'})`);
      this.idleSince.delete(row.pilot);
      this.leavingNodes.delete(row.id);
      this.signalled.delete(row.pilot);
      this.releasing.delete(row.pilot);
      this.drained.delete(row.pilot);
    }
  }
}
