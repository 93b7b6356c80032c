// The slurm.conf of a test's own Slurm (test/support/slurm.ts): every path in the cluster's
// temporary directory, every daemon on 127.0.0.1 at ports asked of the kernel, and two partitions
// so that a job in `high` preempts one in `low`, which is told first and given a grace time.

import { join } from 'node:path';

export type PreemptMode = 'CANCEL' | 'REQUEUE';

export interface SlurmConfInput {
  dir: string;
  clusterName: string;
  ctldPort: number;
  /** One per node: slurmd's port. Debian's Slurm is built with multiple-slurmd, so several run side by side. */
  nodePorts: readonly number[];
  cpusPerNode: number;
  memoryMiBPerNode: number;
  /** Seconds a preempted `low` job keeps running after its signal. */
  graceTimeSec: number;
  /** Seconds between the SIGTERM of a job's end and its SIGKILL. */
  killWaitSec: number;
  preemptMode: PreemptMode;
  mungeSocket: string;
}

export const LOW_PARTITION = 'low';
export const HIGH_PARTITION = 'high';

export function nodeName(i: number): string {
  return `n${i + 1}`;
}

/** Where each daemon and each job's files live in the cluster's directory. */
export function slurmPaths(dir: string) {
  return {
    conf: join(dir, 'slurm.conf'),
    state: join(dir, 'ctld'),
    spool: (node: string) => join(dir, 'spool', node),
    jobs: join(dir, 'jobs'),
    logs: join(dir, 'logs'),
    pids: join(dir, 'pids'),
    munge: join(dir, 'munge'),
  };
}

export function slurmConf(c: SlurmConfInput): string {
  const p = slurmPaths(c.dir);
  const nodes = c.nodePorts.map((port, i) => `NodeName=${nodeName(i)} NodeHostname=localhost NodeAddr=127.0.0.1 Port=${port} `
    + `CPUs=${c.cpusPerNode} RealMemory=${c.memoryMiBPerNode} State=UNKNOWN`);
  return [
    '# A test\'s own Slurm (vws test/support/slurm.ts); nothing here is the machine\'s.',
    `ClusterName=${c.clusterName}`,
    // slurmctld knows itself as the primary controller when this name is its host's or localhost.
    'SlurmctldHost=localhost(127.0.0.1)',
    `SlurmctldPort=${c.ctldPort}`,
    `SlurmdPort=${c.nodePorts[0]}`,
    // slurmctld starts as root and drops to the package's slurm user; slurmd stays root, as it must
    // to run each job as the user who submitted it.
    'SlurmUser=slurm',
    'SlurmdUser=root',
    'AuthType=auth/munge',
    'CredType=cred/munge',
    `AuthInfo=socket=${c.mungeSocket}`,
    `StateSaveLocation=${p.state}`,
    `SlurmdSpoolDir=${join(c.dir, 'spool', '%n')}`,
    `SlurmctldPidFile=${join(p.state, 'slurmctld.pid')}`,
    `SlurmdPidFile=${join(c.dir, 'spool', '%n', 'slurmd.pid')}`,
    'SelectType=select/cons_tres',
    'SelectTypeParameters=CR_Core',
    // Not cgroups, though proctrack/cgroup works on this machine (cgroup v1, the freezer): it makes
    // slurm_<node> cgroups in the machine's hierarchy, outside the cluster's directory, named the
    // same for every cluster (two at once would share them) and left behind. linuxproc follows a
    // job's processes by parentage instead (a process that daemonizes escapes it).
    'ProctrackType=proctrack/linuxproc',
    'TaskPlugin=task/none',
    'JobAcctGatherType=jobacct_gather/none',
    'AccountingStorageType=accounting_storage/none',
    'JobCompType=jobcomp/none',
    'MpiDefault=none',
    'SwitchType=switch/none',
    'MailProg=/bin/true',
    'ReturnToService=2',
    'SchedulerType=sched/backfill',
    // A node is declared with fewer CPUs than the machine has (two slurmd share it): use the
    // declared ones, rather than draining the node for a mismatch.
    'SlurmdParameters=config_overrides',
    `KillWait=${c.killWaitSec}`,
    'PreemptType=preempt/partition_prio',
    `PreemptMode=${c.preemptMode}`,
    // The job's own --signal (e.g. B:USR1@120) is sent the moment it is picked for preemption, not
    // only when it nears its end time: the warning a pilot needs to move its VMs off the node.
    'SlurmctldParameters=preempt_send_user_signal',
    ...nodes,
    `PartitionName=${LOW_PARTITION} Nodes=ALL Default=YES PriorityTier=1 PreemptMode=${c.preemptMode} GraceTime=${c.graceTimeSec} MaxTime=INFINITE State=UP`,
    `PartitionName=${HIGH_PARTITION} Nodes=ALL PriorityTier=10 PreemptMode=OFF MaxTime=INFINITE State=UP`,
    '',
  ].join('\n');
}
