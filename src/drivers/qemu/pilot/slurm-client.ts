// What vws asks of Slurm for its pilots, through Slurm's own commands (sbatch, squeue, scancel,
// scontrol), as an administrator would: submit a pilot job, list the pilot jobs by name, cancel
// one. Every answer is parsed strictly; anything unexpected is an error saying what Slurm printed.

import { execFile } from 'node:child_process';
import { join } from 'node:path';

export interface SlurmClientOptions {
  /** The environment for Slurm's commands (SLURM_CONF, say); the service's own by default. */
  env?: NodeJS.ProcessEnv;
  /** Where sbatch, squeue, scancel and scontrol are; found on PATH when absent. */
  binDir?: string;
  /** Where sbatch runs: relative paths of a job (its output file) are relative to it. */
  cwd?: string;
  timeoutMs?: number;
}

export interface PilotJobRequest {
  /** The job name every pilot of the site shares: how the site's pilots are told from other jobs. */
  name: string;
  partition?: string;
  account?: string;
  qos?: string;
  nodes: number;
  timeLimitSeconds: number;
  /** The pilot is sent SIGUSR1 this long before its time limit (and when it is preempted). */
  signalSeconds: number;
  /** The job's output file (sbatch's --output: %j is the job id). */
  output: string;
  /** The batch script, given to sbatch on its standard input. */
  script: string;
}

export type JobState = 'PENDING' | 'RUNNING' | 'SUSPENDED' | 'COMPLETING' | 'COMPLETED' | 'CANCELLED' | 'FAILED' | 'TIMEOUT' | 'PREEMPTED' | 'NODE_FAIL' | 'BOOT_FAIL' | 'DEADLINE' | 'OUT_OF_MEMORY' | 'REQUEUED' | 'RESIZING' | 'CONFIGURING' | 'STOPPED' | 'SIGNALING' | 'REQUEUE_HOLD' | 'REQUEUE_FED' | 'SPECIAL_EXIT' | 'STAGE_OUT' | 'RESV_DEL_HOLD' | 'REVOKED';
const JOB_STATES: ReadonlySet<string> = new Set<JobState>(['PENDING', 'RUNNING', 'SUSPENDED', 'COMPLETING', 'COMPLETED', 'CANCELLED', 'FAILED', 'TIMEOUT', 'PREEMPTED', 'NODE_FAIL', 'BOOT_FAIL', 'DEADLINE', 'OUT_OF_MEMORY', 'REQUEUED', 'RESIZING', 'CONFIGURING', 'STOPPED', 'SIGNALING', 'REQUEUE_HOLD', 'REQUEUE_FED', 'SPECIAL_EXIT', 'STAGE_OUT', 'RESV_DEL_HOLD', 'REVOKED']);

export interface PilotJob {
  id: string;
  state: JobState;
  /** The nodes it holds, once it runs (expanded: n[1-2] is n1, n2). */
  nodes: string[];
  /** Epoch seconds: when it started (or is expected to), and when its time limit ends it; null if Slurm does not say. */
  startsAt: number | null;
  endsAt: number | null;
  /** Why it waits, or how it ended (squeue's reason: Priority, Resources, None, ...). */
  reason: string;
  partition: string;
}

/** A job id as Slurm writes one: digits (an array task or a federation's cluster name are not pilots). */
const JOB_ID = /^[1-9][0-9]{0,18}$/;
const FIELDS = '%i|%T|%S|%e|%N|%r|%P';

export class SlurmClient {
  constructor(private readonly opts: SlurmClientOptions = {}) {}

  /** Submits a pilot job; answers its id. */
  async submit(r: PilotJobRequest): Promise<string> {
    if (!Number.isInteger(r.nodes) || r.nodes < 1) throw new RangeError(`a pilot job needs a whole number of nodes, at least 1; got ${r.nodes}`);
    const args = [
      '--parsable', `--job-name=${r.name}`, `--nodes=${r.nodes}`, '--ntasks-per-node=1', `--time=${slurmDuration(r.timeLimitSeconds)}`,
      // B: signals the batch shell, which is the agent (the script execs it) on a one-node pilot; srun passes it on to the others.
      `--signal=B:USR1@${Math.max(1, Math.round(r.signalSeconds))}`, `--output=${r.output}`, '--exclusive',
      ...(r.partition ? [`--partition=${r.partition}`] : []), ...(r.account ? [`--account=${r.account}`] : []), ...(r.qos ? [`--qos=${r.qos}`] : []),
    ];
    const out = (await this.run('sbatch', args, r.script)).trim();
    // --parsable prints "id" or "id;cluster".
    const id = out.split(';')[0];
    if (!JOB_ID.test(id)) throw new Error(`sbatch printed '${out.slice(0, 200)}' where a job id was expected`);
    return id;
  }

  /** The jobs of that name Slurm still knows (it forgets ended ones after its MinJobAge). */
  async jobs(name: string): Promise<PilotJob[]> {
    const out = await this.run('squeue', ['--noheader', `--name=${name}`, '--states=all', `--format=${FIELDS}`]);
    const jobs: PilotJob[] = [];
    for (const line of out.split('\n')) if (line.trim() !== '') jobs.push(await this.parseJob(line));
    return jobs;
  }

  /** Ends the job (a pilot that has nothing to run, or that an administrator cancels). */
  async cancel(id: string): Promise<void> {
    if (!JOB_ID.test(id)) throw new RangeError(`'${id}' is not a Slurm job id`);
    await this.run('scancel', [id]);
  }

  private async parseJob(line: string): Promise<PilotJob> {
    const f = line.trim().split('|');
    const bad = (what: string): Error => new Error(`squeue printed '${line.slice(0, 200)}': ${what}`);
    if (f.length !== 7) throw bad(`expected 7 fields (${FIELDS}), got ${f.length}`);
    const [id, state, start, end, nodes, reason, partition] = f;
    if (!JOB_ID.test(id)) throw bad(`'${id}' is not a job id`);
    if (!JOB_STATES.has(state)) throw bad(`'${state}' is not a job state`);
    return { id, state: state as JobState, startsAt: epoch(start, bad), endsAt: epoch(end, bad), nodes: nodes === '' || nodes === '(null)' ? [] : await this.hostnames(nodes), reason, partition };
  }

  /** A host list (n[1-3],m7) as the names it stands for. */
  private async hostnames(list: string): Promise<string[]> {
    if (/^[A-Za-z0-9._-]+$/.test(list)) return [list];
    return (await this.run('scontrol', ['show', 'hostnames', list])).split('\n').map((l) => l.trim()).filter((l) => l !== '');
  }

  private run(tool: string, args: readonly string[], input?: string): Promise<string> {
    const file = this.opts.binDir ? join(this.opts.binDir, tool) : tool;
    // Times as epoch seconds, whatever the site's locale and zone.
    const env = { ...(this.opts.env ?? process.env), SLURM_TIME_FORMAT: '%s' };
    return new Promise((resolve, reject) => {
      const child = execFile(file, [...args], { env, cwd: this.opts.cwd, timeout: this.opts.timeoutMs ?? 30_000, maxBuffer: 16 * 2 ** 20 }, (e, stdout, stderr) => {
        if (e) reject(new Error(`${tool} ${args.join(' ')} failed: ${(stderr || e.message).trim().slice(0, 500)}`));
        else resolve(stdout);
      });
      if (input !== undefined) child.stdin?.end(input);
    });
  }
}

/** Seconds as Slurm's D-HH:MM:SS, rounded up to a whole minute as Slurm keeps time limits. */
export function slurmDuration(seconds: number): string {
  if (!Number.isFinite(seconds) || seconds < 60) throw new RangeError(`a pilot's time limit is at least 60 s; got ${seconds}`);
  const minutes = Math.ceil(seconds / 60);
  const d = Math.floor(minutes / 1440);
  const h = Math.floor((minutes % 1440) / 60);
  const m = minutes % 60;
  const two = (n: number): string => String(n).padStart(2, '0');
  return `${d}-${two(h)}:${two(m)}:00`;
}

function epoch(field: string, bad: (what: string) => Error): number | null {
  if (field === 'N/A' || field === 'Unknown' || field === 'None' || field === '') return null;
  if (!/^[0-9]{1,12}$/.test(field)) throw bad(`'${field}' is not a time in epoch seconds`);
  const t = Number(field);
  return t === 0 ? null : t;
}
