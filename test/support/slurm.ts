// A Slurm cluster of one test's own, from Debian's slurm-wlm and munge, in a temporary directory:
// a munged on a key made for it, a slurmctld and one slurmd per node, each a child process in the
// foreground, on 127.0.0.1 at free ports. Nothing of the machine's is used or changed: not
// /etc/slurm, not /etc/munge, not a system munged. Every client command finds the cluster through
// SLURM_CONF (`env`). Jobs run as root, as the tests do: slurmd must be root to run a job as its
// user, so the harness needs root (munged runs as the munge user, slurmctld drops to slurm).

import { execFile, execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { chmodSync, chownSync, closeSync, existsSync, mkdirSync, mkdtempSync, openSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { freePort } from './free-port.ts';
import { tearDownWith } from './teardown.ts';
import { HIGH_PARTITION, LOW_PARTITION, nodeName, slurmConf, slurmPaths, type PreemptMode } from './slurm-conf.ts';
import { waitFor, type WaitOptions } from './wait.ts';

const run = promisify(execFile);

export interface SlurmOptions {
  /** Nodes, each its own slurmd (2 by default). */
  nodes?: number;
  cpusPerNode?: number;
  memoryMiBPerNode?: number;
  /** Seconds a preempted job in `low` keeps running after its signal (10 by default). */
  graceTimeSec?: number;
  /** Seconds between a job's SIGTERM and its SIGKILL (5 by default; Slurm's own is 30). */
  killWaitSec?: number;
  /** What preemption does to a `low` job: CANCEL ends it PREEMPTED; REQUEUE puts it back in the queue. */
  preemptMode?: PreemptMode;
}

export interface SlurmNode {
  name: string;
  /** sinfo's long state: idle, allocated, mixed, completing, down, drained, ... (a trailing * when not responding). */
  state: string;
}

export interface Slurm {
  readonly dir: string;
  /** The process environment with SLURM_CONF, for spawning sbatch, squeue, scancel, scontrol, sinfo. */
  readonly env: NodeJS.ProcessEnv;
  readonly partitions: { readonly low: string; readonly high: string };
  readonly nodeNames: readonly string[];
  /** Where sbatch runs, so where a job's default output file (slurm-ID.out) and relative paths land. */
  readonly jobsDir: string;
  readonly preemptMode: PreemptMode;
  /**
   * Submits a job and returns its id. `script` is the batch script's text (given to sbatch on
   * its standard input), or null with `--wrap` among `args`.
   */
  sbatch(script: string | null, args?: readonly string[]): Promise<number>;
  /** The job's state as scontrol shows it (PENDING, RUNNING, COMPLETED, PREEMPTED, ...). */
  jobState(id: number): Promise<string>;
  /**
   * Waits until the job is in one of `states` and returns that state; fails at once when the job
   * reaches another state it cannot leave.
   */
  waitForState(id: number, states: readonly string[], opts?: WaitOptions): Promise<string>;
  nodes(): Promise<SlurmNode[]>;
  /** Runs a Slurm client command against this cluster and returns what it printed. */
  command(tool: string, args: readonly string[]): Promise<string>;
  /** The end of every daemon's log, for a failing test's message. */
  log(): string;
  /** The daemons the harness started (munged, slurmctld, slurmd-NODE) and their process ids. */
  daemons(): { name: string; pid: number }[];
  /** Cancels every job, stops the daemons, removes the directory; safe to call twice. */
  stop(): Promise<void>;
}

/** States a job does not leave by itself (a requeued job is PENDING again, not one of these). */
const FINAL_STATES = new Set(['COMPLETED', 'FAILED', 'CANCELLED', 'TIMEOUT', 'PREEMPTED', 'NODE_FAIL', 'BOOT_FAIL', 'DEADLINE', 'OUT_OF_MEMORY']);
const TOOLS = ['munged', 'mungekey', 'munge', 'slurmctld', 'slurmd', 'sbatch', 'scontrol', 'sinfo', 'squeue', 'scancel'];

/**
 * Kills every process of this cluster: whatever holds its SLURM_CONF (its own temporary path, which
 * no other cluster has) in its environment, as the daemons (started with it) and the jobs (given it
 * by sbatch) do, and whatever has a file or a Unix socket of its directory open, as slurmstepd does
 * (it writes its title over its environment, and outlives slurmd). TERM, a moment, then KILL.
 * Arguments: conf, a pid to spare (the test's own process).
 */
const SWEEP = `conf=$1 spare=$2 dir=\${1%/slurm.conf}
ours() {
  {
    grep -lsxzF "SLURM_CONF=$conf" /proc/[0-9]*/environ
    find /proc/[0-9]*/fd -lname "$dir/*" 2>/dev/null
    for i in $(awk -v d="$dir/" 'index($NF, d) == 1 { print $7 }' /proc/net/unix); do
      find /proc/[0-9]*/fd -lname "socket:\\[$i\\]" 2>/dev/null
    done
  } | sed -n 's#^/proc/\\([0-9]*\\)/.*#\\1#p' | sort -u | grep -vx -e "$$" -e "$spare"
}
pids=$(ours); [ -n "$pids" ] && kill -TERM $pids 2>/dev/null
for i in 1 2 3 4 5 6 7 8 9 10; do [ -z "$(ours)" ] && break; sleep 0.3; done
pids=$(ours); [ -n "$pids" ] && kill -KILL $pids 2>/dev/null
exit 0`;

function userIds(name: string): { uid: number; gid: number } {
  try {
    return { uid: Number(execFileSync('id', ['-u', name], { encoding: 'utf8' })), gid: Number(execFileSync('id', ['-g', name], { encoding: 'utf8' })) };
  } catch (e) {
    throw new Error(`no ${name} user on this machine: Debian's ${name === 'munge' ? 'munge package' : 'slurm-wlm-basic-plugins (which slurmd depends on)'} makes it; run \`bash scripts/ensure-test-packages.sh\` as root`, { cause: e });
  }
}

function checkMachine(): void {
  if (process.getuid?.() !== 0) {
    throw new Error('the Slurm harness needs root: slurmd runs each job as the user who submitted it. Run the test as root (as `npm test` and CI do)');
  }
  const missing = TOOLS.filter((t) => !['/usr/sbin', '/usr/bin', '/sbin', '/bin'].some((d) => existsSync(join(d, t))));
  if (missing.length > 0) {
    throw new Error(`Slurm or munge is not installed (no ${missing.join(', ')}): run \`bash scripts/ensure-test-packages.sh\` as root, which installs munge, slurmctld, slurmd and slurm-client`);
  }
}

/** Starts the cluster and waits until every node is idle; the caller must stop() it (in an after hook). */
export async function startSlurm(opts: SlurmOptions = {}): Promise<Slurm> {
  checkMachine();
  const nodeCount = opts.nodes ?? 2;
  const preemptMode = opts.preemptMode ?? 'CANCEL';
  const munge = userIds('munge');
  const slurm = userIds('slurm');
  const dir = mkdtempSync(join(tmpdir(), 'vws-slurm-'));
  // The munge and slurm users go through it to their own directories and to slurm.conf.
  chmodSync(dir, 0o711);
  const p = slurmPaths(dir);
  const env: NodeJS.ProcessEnv = { ...process.env, SLURM_CONF: p.conf };
  const children: { name: string; child: ChildProcess; exit?: string }[] = [];
  const nodeNames = Array.from({ length: nodeCount }, (_, i) => nodeName(i));

  const logOf = (name: string): string => join(p.logs, `${name}.log`);
  const log = (): string => children.map(({ name }) => {
    const text = existsSync(logOf(name)) ? readFileSync(logOf(name), 'utf8') : '';
    return `--- ${name} (${logOf(name)}), last lines:\n${text.split('\n').slice(-25).join('\n')}`;
  }).join('\n');

  const daemon = (name: string, file: string, args: string[], ids?: { uid: number; gid: number }): void => {
    const out = openSync(logOf(name), 'a');
    const child = spawn(file, args, { env, stdio: ['ignore', out, out], ...ids });
    closeSync(out);
    const entry: (typeof children)[number] = { name, child };
    children.push(entry);
    // The watchdog's sweep finds it by SLURM_CONF; this file is for a person debugging a run.
    if (child.pid !== undefined) writeFileSync(join(p.pids, name), `${child.pid}\n`);
    child.on('error', (e) => { entry.exit = e.message; });
    child.on('exit', (code, signal) => { entry.exit = `exited (${signal ?? `code ${code}`})`; });
  };
  /** A probe's guard: a daemon that ended while the harness waits for the cluster fails the start at once. */
  const noneExited = (): void => {
    const gone = children.find((c) => c.exit !== undefined);
    if (gone) throw new Error(`${gone.name} ${gone.exit} while the Slurm harness was starting\n${log()}`);
  };

  const command = async (tool: string, args: readonly string[], input?: string): Promise<string> => {
    try {
      if (input === undefined) return (await run(tool, [...args], { env, cwd: p.jobs, timeout: 60_000 })).stdout;
      return await new Promise<string>((resolve, reject) => {
        const c = execFile(tool, [...args], { env, cwd: p.jobs, timeout: 60_000 }, (e, stdout, stderr) => {
          if (e) reject(Object.assign(new Error(e.message, { cause: e }), { stdout, stderr }));
          else resolve(stdout);
        });
        c.stdin?.end(input);
      });
    } catch (e) {
      const { stdout = '', stderr = '' } = e as { stdout?: string; stderr?: string };
      throw new Error(`${tool} ${args.join(' ')} failed: ${(e as Error).message}\n${stdout}${stderr}`.trimEnd(), { cause: e });
    }
  };

  // The sweep finds the cluster's processes (slurmstepd and jobs too) by its SLURM_CONF, or files and sockets in its directory.
  const sweep = ['sh', '-c', SWEEP, 'sweep', p.conf, String(process.pid)];
  let stopped = false;
  const stopNow = tearDownWith('vws-slurm-watchdog', dir, sweep, () => {
    stopped = true;
    execFileSync(sweep[0], sweep.slice(1), { stdio: 'ignore', timeout: 30_000 });
  });

  try {
    for (const d of [p.jobs, p.logs, p.pids, join(dir, 'spool'), ...nodeNames.map(p.spool)]) mkdirSync(d, { recursive: true, mode: 0o755 });
    mkdirSync(p.state, { mode: 0o700 });
    chownSync(p.state, slurm.uid, slurm.gid);
    // munged checks its key's owner and mode, and that no one else can write where its socket is.
    mkdirSync(p.munge, { mode: 0o755 });
    const key = join(p.munge, 'munge.key');
    execFileSync('mungekey', ['--create', `--keyfile=${key}`], { stdio: ['ignore', 'ignore', 'pipe'] });
    chownSync(p.munge, munge.uid, munge.gid);
    chownSync(key, munge.uid, munge.gid);
    chmodSync(key, 0o400);
    const socket = join(p.munge, 'munge.socket');

    const ctldPort = await freePort();
    const nodePorts: number[] = [];
    while (nodePorts.length < nodeCount) {
      const port = await freePort();
      if (port !== ctldPort && !nodePorts.includes(port)) nodePorts.push(port);
    }
    const graceTimeSec = opts.graceTimeSec ?? 10;
    writeFileSync(p.conf, slurmConf({
      dir, clusterName: `vws${process.pid}`, ctldPort, nodePorts, cpusPerNode: opts.cpusPerNode ?? 1,
      memoryMiBPerNode: opts.memoryMiBPerNode ?? 1024, graceTimeSec, killWaitSec: opts.killWaitSec ?? 5, preemptMode, mungeSocket: socket,
    }), { mode: 0o644 });

    daemon('munged', 'munged', ['--foreground', `--socket=${socket}`, `--key-file=${key}`, `--pid-file=${join(p.munge, 'munged.pid')}`,
      `--log-file=${join(p.munge, 'munged.log')}`, `--seed-file=${join(p.munge, 'munged.seed')}`], munge);
    await waitFor('munged to answer on its socket', async () => {
      noneExited();
      if (!existsSync(socket)) return false;
      return run('munge', ['--socket', socket, '--no-input'], { timeout: 10_000 }).then(() => true, () => false);
    }, { timeoutMs: 60_000, everyMs: 50 });

    daemon('slurmctld', 'slurmctld', ['-D', '-f', p.conf]);
    for (const node of nodeNames) daemon(`slurmd-${node}`, 'slurmd', ['-D', '-N', node, '-f', p.conf]);
    let last: SlurmNode[] = [];
    const nodes = async (): Promise<SlurmNode[]> => {
      const seen = new Map<string, string>();
      // One line per node and partition: the same node twice, with the same state.
      for (const line of (await command('sinfo', ['--noheader', '--Node', '--format=%N %T'])).split('\n')) {
        const [name, state] = line.trim().split(/\s+/);
        if (name && state) seen.set(name, state);
      }
      return [...seen].map(([name, state]) => ({ name, state }));
    };
    await waitFor(`${nodeCount} Slurm node(s) idle`, async () => {
      noneExited();
      last = await nodes().catch(() => []);
      return last.length === nodeCount && last.every((n) => n.state === 'idle');
    }, { timeoutMs: 120_000, everyMs: 200, seen: () => last });

    const jobState = async (id: number): Promise<string> => {
      const out = await command('scontrol', ['--oneliner', 'show', 'job', String(id)]);
      const state = /\bJobState=(\S+)/.exec(out)?.[1];
      if (state === undefined) throw new Error(`scontrol shows no JobState for job ${id}: ${out}`);
      return state;
    };
    return {
      dir, env, nodeNames, jobsDir: p.jobs, preemptMode,
      partitions: { low: LOW_PARTITION, high: HIGH_PARTITION },
      sbatch: async (script, args = []) => {
        const out = await command('sbatch', ['--parsable', ...args], script ?? undefined);
        // --parsable prints "ID" or "ID;CLUSTER".
        const id = Number(out.trim().split(';')[0]);
        if (!Number.isInteger(id) || id <= 0) throw new Error(`sbatch ${args.join(' ')} printed no job id: ${JSON.stringify(out)}`);
        return id;
      },
      jobState,
      waitForState: async (id, states, waitOpts = {}) => {
        let state = '';
        return waitFor(`job ${id} in ${states.join('|')}`, async () => {
          state = await jobState(id);
          if (states.includes(state)) return state;
          if (FINAL_STATES.has(state)) throw new Error(`job ${id} ended ${state}, not ${states.join('|')}\n${log()}`);
          return false;
        }, { everyMs: 100, seen: () => state, ...waitOpts });
      },
      nodes,
      command: (tool, args) => command(tool, args),
      log,
      daemons: () => children.flatMap(({ name, child }) => (child.pid === undefined ? [] : [{ name, pid: child.pid }])),
      stop: async () => {
        if (stopped) return;
        // Jobs first, through Slurm, while slurmd is there to end them; then the daemons.
        const queued = (await command('squeue', ['--noheader', '--format=%i']).catch(() => '')).split('\n').filter(Boolean);
        if (queued.length > 0) {
          await command('scancel', queued).catch(() => undefined);
          await waitFor('the harness\'s jobs to end', async () => (await command('squeue', ['--noheader', '--format=%i']).catch(() => '')).trim() === '', { timeoutMs: 30_000, everyMs: 200 }).catch(() => undefined);
        }
        stopNow();
      },
    };
  } catch (e) {
    stopNow();
    throw e;
  }
}
