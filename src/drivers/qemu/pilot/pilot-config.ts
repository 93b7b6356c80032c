// The site's pilot policy (vws serve --driver pilot --pilot-config FILE): where pilot jobs go in
// the batch system (partition, account, QOS), how many and how large, how long each lives, when an
// idle one is let go, and how a pilot's node runs the agent. Read strictly: a field that is
// missing, mistyped or unknown is refused naming it.

import { isAbsolute } from 'node:path';
import { MOST_CPUS, MOST_DISK_MIB, MOST_MEMORY_MIB } from '../../../core/limits.ts';
import type { Resources } from '../../../core/types.ts';
import { configFields } from '../../config-fields.ts';

export interface PilotConfig {
  /** Every pilot job of the site has this name: how they are told from other jobs. */
  jobName: string;
  partition?: string;
  account?: string;
  qos?: string;
  /** Pilots pending and running at once, at most. */
  maxPilots: number;
  nodesPerPilot: number;
  /** A pilot job's time limit: its nodes leave the pool then, at the latest. */
  timeLimitSeconds: number;
  /** A running pilot with nothing on its nodes for this long is let go. */
  idleTimeoutSeconds: number;
  /**
   * How long the batch system leaves a pilot between its signal and its end (Slurm's GraceTime
   * when it preempts; the job is signalled this long before its time limit too): the VMs on its
   * nodes are suspended within it.
   */
  graceSeconds: number;
  /** How often the batch system is asked about the pilots. */
  pollSeconds: number;
  /** A node of the batch system, as the pilot policy counts what one pilot brings. */
  node: Resources;
  /** Where Slurm's commands are, and the SLURM_CONF they read (else the service's environment's). */
  slurm: { binDir?: string; conf?: string };
  agent: {
    /** The command that runs vws agent on a node (vws agent's path there, with `agent`). */
    command: string[];
    /** The service's URLs as the nodes reach them. */
    servers: string[];
    /** A file, readable on the nodes, holding the agents' token. */
    tokenFile: string;
    /** The directory the nodes share where suspended VMs wait (vws agent --depot). */
    depot: string;
    /** Where on a node each pilot keeps its agent's data, in a directory named for its job. */
    dataDir: string;
    /** More vws agent options; %n is the node's name in the batch system, %j the job id. */
    args: string[];
  };
}

export class PilotConfigError extends RangeError {
  constructor(where: string, message: string) {
    super(`pilot configuration ${where}: ${message}`);
    this.name = 'PilotConfigError';
  }
}

const f = configFields((where, message) => new PilotConfigError(where, message));
const DAY = 86_400;
/** A Slurm name (job, partition, account, QOS): what sbatch takes without quoting trouble. */
const SLURM_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;

function slurmName(where: string, v: unknown): string {
  const s = f.text(where, v);
  if (!SLURM_NAME.test(s)) throw new PilotConfigError(where, `'${s}' is not a name Slurm takes: letters, digits, '.', '_' or '-', at most 64`);
  return s;
}

function words(where: string, v: unknown, min: number): string[] {
  if (!Array.isArray(v) || v.length < min) throw new PilotConfigError(where, `must be a list of ${min > 0 ? 'at least one ' : ''}string${min > 1 ? 's' : ''}`);
  return v.map((x, i) => f.text(`${where}[${i}]`, x));
}

function absolute(where: string, v: unknown): string {
  const s = f.text(where, v);
  if (!isAbsolute(s)) throw new PilotConfigError(where, `must be an absolute path (it is read on the batch system's nodes), got '${s}'`);
  return s;
}

/** The configuration from its parsed JSON, or a PilotConfigError naming the first field that is wrong. */
export function parsePilotConfig(raw: unknown): PilotConfig {
  const o = f.object('(the whole file)', raw, '(see docs/pilots.md)');
  f.only('(top level)', o, ['jobName', 'partition', 'account', 'qos', 'maxPilots', 'nodesPerPilot', 'timeLimitSeconds', 'idleTimeoutSeconds', 'graceSeconds', 'pollSeconds', 'node', 'slurm', 'agent']);
  const node = f.object('node', o.node, '{cpu, memoryMiB, diskMiB}: a batch node as the pilot policy counts it');
  f.only('node', node, ['cpu', 'memoryMiB', 'diskMiB']);
  const slurm = o.slurm === undefined ? {} : f.object('slurm', o.slurm, '{binDir, conf}');
  f.only('slurm', slurm, ['binDir', 'conf']);
  const agent = f.object('agent', o.agent, '{command, servers, tokenFile, depot, dataDir, args}');
  f.only('agent', agent, ['command', 'servers', 'tokenFile', 'depot', 'dataDir', 'args']);
  const config: PilotConfig = {
    jobName: o.jobName === undefined ? 'vws-pilot' : slurmName('jobName', o.jobName),
    ...(o.partition !== undefined ? { partition: slurmName('partition', o.partition) } : {}),
    ...(o.account !== undefined ? { account: slurmName('account', o.account) } : {}),
    ...(o.qos !== undefined ? { qos: slurmName('qos', o.qos) } : {}),
    maxPilots: f.whole('maxPilots', o.maxPilots, 1, 10_000, 'pilots'),
    nodesPerPilot: o.nodesPerPilot === undefined ? 1 : f.whole('nodesPerPilot', o.nodesPerPilot, 1, 1_000, 'nodes'),
    timeLimitSeconds: f.whole('timeLimitSeconds', o.timeLimitSeconds, 120, 365 * DAY, 'seconds'),
    idleTimeoutSeconds: f.whole('idleTimeoutSeconds', o.idleTimeoutSeconds, 0, 30 * DAY, 'seconds'),
    graceSeconds: f.whole('graceSeconds', o.graceSeconds, 10, DAY, 'seconds'),
    pollSeconds: o.pollSeconds === undefined ? 10 : f.whole('pollSeconds', o.pollSeconds, 1, 3600, 'seconds'),
    node: {
      cpu: f.whole('node.cpu', node.cpu, 1, MOST_CPUS, 'CPUs'),
      memoryMiB: f.whole('node.memoryMiB', node.memoryMiB, 1, MOST_MEMORY_MIB, 'MiB'),
      diskMiB: node.diskMiB === undefined ? 0 : f.whole('node.diskMiB', node.diskMiB, 0, MOST_DISK_MIB, 'MiB'),
    },
    slurm: { ...(slurm.binDir !== undefined ? { binDir: absolute('slurm.binDir', slurm.binDir) } : {}), ...(slurm.conf !== undefined ? { conf: absolute('slurm.conf', slurm.conf) } : {}) },
    agent: {
      command: words('agent.command', agent.command, 1),
      servers: words('agent.servers', agent.servers, 1).map((s, i) => url(`agent.servers[${i}]`, s)),
      tokenFile: absolute('agent.tokenFile', agent.tokenFile),
      depot: absolute('agent.depot', agent.depot),
      dataDir: absolute('agent.dataDir', agent.dataDir),
      args: agent.args === undefined ? [] : words('agent.args', agent.args, 0),
    },
  };
  // The node's VMs must be suspended within the grace time, well before the limit ends the job.
  if (config.graceSeconds * 2 > config.timeLimitSeconds) throw new PilotConfigError('graceSeconds', `${config.graceSeconds} s is more than half the time limit (${config.timeLimitSeconds} s): a pilot would spend more time leaving than running`);
  return config;
}

function url(where: string, s: string): string {
  let u: URL;
  try {
    u = new URL(s);
  } catch {
    throw new PilotConfigError(where, `'${s}' is not a URL such as http://vws.example.org:8080`);
  }
  if (u.protocol !== 'http:' && u.protocol !== 'https:') throw new PilotConfigError(where, `must be an http or https URL, got '${s}'`);
  return s;
}

/** The configuration in a file, refusing unreadable or non-JSON text with the file's name. */
export function pilotConfigFromText(file: string, text: string): PilotConfig {
  return parsePilotConfig(f.json(file, text));
}
