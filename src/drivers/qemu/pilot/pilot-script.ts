// The batch script of a pilot job: on each node the job holds, it runs the site's vws agent until
// the job ends, named for the job and the node, with the node's data in a directory of the job's,
// suspended VMs kept in the shared depot, and the token read from a file on the node (in the
// environment, not on a command line that ps shows).

import type { PilotConfig } from './pilot-config.ts';

/** A word for sh: single-quoted, with %n (the node's name in the batch system) and %j (the job id) left to the shell. */
export function shellWord(word: string): string {
  return word.split(/(%[nj])/).filter((part) => part !== '').map((part) => {
    if (part === '%n') return '"$SLURMD_NODENAME"';
    if (part === '%j') return '"$SLURM_JOB_ID"';
    return quoted(part);
  }).join('');
}

/** Text as one single-quoted sh word. */
const quoted = (text: string): string => `'${text.replace(/'/g, `'\\''`)}'`;

export function pilotScript(config: PilotConfig): string {
  const a = config.agent;
  const agent = [
    ...a.command, '--server', a.servers.join(','), '--name', 'pilot-%j-%n', '--pilot-job', '%j', '--depot', a.depot, '--data', `${a.dataDir}/%j-%n`, ...a.args,
  ].map(shellWord).join(' ');
  // One node: the agent is the batch shell itself (exec), so that sbatch --signal=B:USR1 reaches it.
  // Several: srun starts one per node, and the batch shell passes the signal on to them.
  const run = config.nodesPerPilot === 1
    ? `exec ${agent}`
    : [
      // Each node's shell expands its own node name ($SLURMD_NODENAME) in the command.
      `srun --ntasks-per-node=1 --kill-on-bad-exit=0 sh -c ${quoted(`exec ${agent}`)} &`,
      'step=$!',
      'trap \'kill -USR1 "$step" 2>/dev/null\' USR1',
      // wait returns when the trap runs: wait again for the step itself.
      'while kill -0 "$step" 2>/dev/null; do wait "$step"; done',
    ].join('\n');
  return [
    '#!/bin/sh',
    `# vws pilot: runs vws agent on each node of this job until it ends (${config.jobName}).`,
    'set -eu',
    `VWS_AGENT_TOKEN=$(cat ${shellWord(a.tokenFile)})`,
    'export VWS_AGENT_TOKEN',
    run,
    '',
  ].join('\n');
}
