// The Slurm harness (test/support/slurm.ts) proved with real jobs on its own cluster of two slurmd:
// a trivial job runs to COMPLETED; a long job in the low partition is preempted by a job in the
// high one, is told first (its --signal=B:USR1, which its script traps) and killed after, and the
// high job then runs; a job that ends otherwise fails a wait at once; stop(), and the watchdog when
// the test's process is SIGKILLed, leave no process and no directory behind. It
// prints what issue 19's pilot will be measured against: the cluster's start, sbatch to a trivial
// job running, and a preemption's signal to the node free for the high job. No duration is asserted.

import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, readlinkSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { type Slurm, startSlurm } from '../support/slurm.ts';
import { waitFor } from '../support/wait.ts';

let slurm: Slurm | null = null;
let startMs = 0;

before(async () => {
  const t0 = performance.now();
  slurm = await startSlurm({ nodes: 2, graceTimeSec: 10, killWaitSec: 5, preemptMode: 'CANCEL' });
  startMs = performance.now() - t0;
  console.log(`slurm harness: munged, slurmctld and ${slurm.nodeNames.length} slurmd started, nodes idle, in ${Math.round(startMs)} ms`);
});

after(async () => {
  await slurm?.stop();
});

const cluster = (): Slurm => {
  assert.ok(slurm, 'the cluster did not start');
  return slurm;
};
/** The wall clock in ms, as the jobs' `date +%s%N` writes it (same machine, same clock). */
const nowMs = (): number => Date.now();
const stamp = (ns: string): number => Number(BigInt(ns) / 1_000_000n);
const readIn = (name: string, s = cluster()): string => {
  const file = join(s.jobsDir, name);
  return existsSync(file) ? readFileSync(file, 'utf8') : '';
};

test('the cluster has its nodes idle in both partitions', async () => {
  const s = cluster();
  assert.deepEqual((await s.nodes()).map((n) => [n.name, n.state]), s.nodeNames.map((n) => [n, 'idle']));
  const partitions = (await s.command('sinfo', ['--noheader', '--format=%P %D %a'])).trim().split('\n').sort();
  assert.deepEqual(partitions, [`${s.partitions.high} 2 up`, `${s.partitions.low}* 2 up`]);
  // Its own controller, found through SLURM_CONF: the machine has no /etc/slurm of its own to find.
  assert.match(await s.command('scontrol', ['show', 'config']), new RegExp(`SLURM_CONF\\s*=\\s*${s.dir}/slurm.conf`));
});

test('a trivial job runs to COMPLETED and its output says hi', async () => {
  const s = cluster();
  const submitted = nowMs();
  const id = await s.sbatch(null, ['--output=hi.out', '--wrap', 'date +%s%N > hi.started; echo hi']);
  assert.equal(await s.waitForState(id, ['COMPLETED']), 'COMPLETED');
  const seenDone = nowMs();
  assert.equal(readIn('hi.out'), 'hi\n');
  const started = stamp(readIn('hi.started').trim());
  console.log(`slurm harness: trivial job ${id}: sbatch -> running ${started - submitted} ms, sbatch -> COMPLETED seen ${seenDone - submitted} ms`);
});

/** Not gone and not a zombie (a daemon killed a moment ago that this process has not reaped yet). */
const running = (pid: number): boolean => {
  try {
    return !/^\d+ \(.*\) Z /.test(readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return false;
  }
};

/**
 * The processes of a cluster, found as the harness's own sweep is not: whatever has its SLURM_CONF
 * in its environment, or a file or a Unix socket of its directory open (slurmstepd has its socket).
 */
const processesOf = (dir: string): number[] => {
  const sockets = new Set(readFileSync('/proc/net/unix', 'utf8').split('\n').map((l) => l.trim().split(/\s+/))
    .filter((f) => f[7]?.startsWith(`${dir}/`)).map((f) => `socket:[${f[6]}]`));
  const holdsOne = (pid: number): boolean => readdirSync(`/proc/${pid}/fd`).some((fd) => {
    try {
      const target = readlinkSync(`/proc/${pid}/fd/${fd}`);
      return target.startsWith(`${dir}/`) || sockets.has(target);
    } catch {
      return false;
    }
  });
  return readdirSync('/proc').filter((d) => /^\d+$/.test(d)).map(Number).filter((pid) => {
    try {
      return running(pid) && (readFileSync(`/proc/${pid}/environ`, 'latin1').split('\0').includes(`SLURM_CONF=${dir}/slurm.conf`) || holdsOne(pid));
    } catch {
      return false; // gone meanwhile
    }
  });
};

/** A low job that traps its warning and its kill, writing each with its instant to `marker` (in jobsDir). */
const lowScript = (marker: string, exitOnWarning: boolean, s = cluster()): string => `#!/bin/bash
mark() { echo "$1 $(date +%s%N)" >> ${join(s.jobsDir, marker)}; }
trap 'mark usr1${exitOnWarning ? '; exit 0' : ''}' USR1
trap 'mark term; exit 143' TERM
mark start
# sleep in the background and wait for it: bash runs a trap only between commands, and wait returns at once on a signal.
while :; do sleep 1000 & wait $!; done
`;

interface Marks { start?: number; usr1?: number; term?: number }
const marksIn = (marker: string, s = cluster()): Marks => Object.fromEntries(readIn(marker, s).trim().split('\n').filter(Boolean)
  .map((l) => l.split(' ')).map(([what, ns]) => [what, stamp(ns!)]));

/**
 * Fills every node with a low job (`marker` its file), waits until its script runs, then submits a
 * one-node high job and waits for it to complete. Returns the low job's id, its marks, the high
 * job's start and when it was submitted.
 */
async function preempt(name: string, exitOnWarning: boolean, s = cluster()) {
  const marker = `${name}.marks`;
  const low = await s.sbatch(lowScript(marker, exitOnWarning, s), [`--partition=${s.partitions.low}`, `--nodes=${s.nodeNames.length}`, '--exclusive',
    '--signal=B:USR1@60', `--output=${name}-low.out`, `--job-name=${name}-low`]);
  await s.waitForState(low, ['RUNNING']);
  // RUNNING comes before the script has set its traps: its first mark says it has.
  await waitFor(`low job ${low}'s script to start`, () => marksIn(marker, s).start !== undefined, { everyMs: 50, seen: () => readIn(`${name}-low.out`, s) });
  const submitted = nowMs();
  const high = await s.sbatch(null, [`--partition=${s.partitions.high}`, '--nodes=1', '--exclusive', `--output=${name}-high.out`,
    `--job-name=${name}-high`, '--wrap', `date +%s%N > ${name}-high.started; echo high`]);
  assert.equal(await s.waitForState(high, ['COMPLETED']), 'COMPLETED');
  assert.equal(readIn(`${name}-high.out`, s), 'high\n');
  return { low, marks: marksIn(marker, s), highStarted: stamp(readIn(`${name}-high.started`, s).trim()), submitted };
}

test('a high-priority job preempts a low one, which is signalled first and killed after its grace time', async () => {
  const s = cluster();
  const { low, marks, highStarted, submitted } = await preempt('kill', false);
  assert.equal(await s.waitForState(low, ['PREEMPTED']), 'PREEMPTED', 'PreemptMode=CANCEL ends the low job PREEMPTED');
  assert.ok(marks.usr1 !== undefined, `the low job's script never saw its USR1: ${JSON.stringify(marks)}\n${s.log()}`);
  assert.ok(marks.term !== undefined, `the low job's script never saw the SIGTERM of its kill: ${JSON.stringify(marks)}`);
  assert.ok(submitted <= marks.usr1 && marks.usr1 < marks.term, `USR1 came after the high job and before the kill: ${JSON.stringify({ submitted, ...marks })}`);
  assert.ok(marks.term <= highStarted, `the high job started after the low one was killed: ${JSON.stringify({ ...marks, highStarted })}`);
  console.log(`slurm harness: preemption (GraceTime=10 s, the low job waits to be killed): high sbatch -> USR1 ${marks.usr1 - submitted} ms, `
    + `USR1 -> SIGTERM ${marks.term - marks.usr1} ms, USR1 -> node free for the high job (its start) ${highStarted - marks.usr1} ms`);
});

test('a low job that ends on its warning frees the node without waiting for its grace time to run out', async () => {
  const s = cluster();
  const { low, marks, highStarted, submitted } = await preempt('leave', true);
  // Slurm records how the script ended, not why: a pilot cannot learn from the state that it was
  // preempted, only from its signal.
  const state = await s.waitForState(low, ['COMPLETED']);
  assert.ok(marks.usr1 !== undefined && marks.term === undefined, `the script left on USR1 and was never killed: ${JSON.stringify(marks)}`);
  assert.ok(submitted <= marks.usr1 && marks.usr1 <= highStarted, JSON.stringify({ submitted, ...marks, highStarted }));
  console.log(`slurm harness: preemption (the low job exits on USR1; its end state ${state}): high sbatch -> USR1 ${marks.usr1 - submitted} ms, `
    + `USR1 -> node free for the high job (its start) ${highStarted - marks.usr1} ms`);
});

test('with PreemptMode=REQUEUE the preempted low job, signalled and killed as with CANCEL, goes back to the queue', async () => {
  const s = await startSlurm({ nodes: 2, graceTimeSec: 10, killWaitSec: 5, preemptMode: 'REQUEUE' });
  try {
    const { low, marks, highStarted } = await preempt('requeue', false, s);
    assert.ok(marks.usr1 !== undefined && marks.term !== undefined && marks.usr1 < marks.term && marks.term <= highStarted, JSON.stringify({ ...marks, highStarted }));
    // It may already be running again once the high job is done: what says it was requeued is its restart count.
    assert.match(await s.waitForState(low, ['PENDING', 'RUNNING']), /^(PENDING|RUNNING)$/);
    assert.match(await s.command('scontrol', ['--oneliner', 'show', 'job', String(low)]), /\bRestarts=1\b/);
  } finally {
    await s.stop();
  }
});

test('waiting for a state fails at once, with the state, when the job ends in another', async () => {
  const s = cluster();
  const id = await s.sbatch(null, ['--output=/dev/null', '--wrap', 'exit 3']);
  await assert.rejects(s.waitForState(id, ['COMPLETED']), new RegExp(`job ${id} ended FAILED, not COMPLETED`));
});

test('stop() ends every daemon and job of the cluster and removes its directory', async () => {
  const s = cluster();
  const daemons = s.daemons();
  assert.deepEqual(daemons.map((d) => d.name).sort(), ['munged', 'slurmctld', ...s.nodeNames.map((n) => `slurmd-${n}`)].sort());
  // A job still running when the test ends: stop() must end it too, not leave it to the machine.
  const marker = 'left.marks';
  const left = await s.sbatch(lowScript(marker, false), ['--output=/dev/null']);
  await s.waitForState(left, ['RUNNING']);
  await waitFor('the left job\'s script to start', () => marksIn(marker).start !== undefined, { everyMs: 50 });
  await s.stop();
  assert.equal(existsSync(s.dir), false, `${s.dir} is still there`);
  const alive = daemons.filter(({ pid }) => running(pid));
  assert.deepEqual(alive, [], 'daemons still running after stop()');
  assert.deepEqual(processesOf(s.dir), [], 'processes of the cluster (slurmstepd, the job) still running after stop()');
});

test('when the test\'s process is killed, the watchdog ends the cluster and removes its directory', async () => {
  const child = spawn(process.execPath, ['--import', 'tsx', join(import.meta.dirname, 'abandoned-cluster.ts')], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  child.stdout.on('data', (d: Buffer) => { out += d.toString(); });
  child.stderr.on('data', (d: Buffer) => { err += d.toString(); });
  const said = await waitFor('the abandoned cluster to say where it is', () => (out.includes('\n') ? JSON.parse(out) as { dir: string; daemons: { name: string; pid: number }[] } : child.exitCode !== null && assert.fail(`it exited ${child.exitCode}: ${err}`)), { everyMs: 100 });
  const before = processesOf(said.dir);
  assert.ok(said.daemons.every(({ pid }) => before.includes(pid)) && before.length >= said.daemons.length + 2, `its daemons, slurmstepd and the job are running: ${before.join(' ')}`);
  child.kill('SIGKILL');
  await waitFor(`the watchdog to remove ${said.dir}`, () => !existsSync(said.dir), { everyMs: 200 });
  assert.deepEqual(processesOf(said.dir), [], 'processes of the abandoned cluster still running');
  assert.deepEqual(said.daemons.filter(({ pid }) => running(pid)), [], 'daemons of the abandoned cluster still running');
});
