// The pilot's Slurm client against a real Slurm (test/support/slurm.ts): a pilot job submitted
// with the pilot's options runs, is listed by its name with its node and its time limit's end in
// epoch seconds, and is cancelled. What Slurm's commands print
// that the client does not expect is an error quoting it.

import assert from 'node:assert/strict';
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { SlurmClient, slurmDuration } from '../../src/drivers/qemu/pilot/slurm-client.ts';
import { type Slurm, startSlurm } from '../support/slurm.ts';
import { waitFor } from '../support/wait.ts';

let slurm: Slurm | null = null;

before(async () => {
  slurm = await startSlurm({ nodes: 2 });
});

after(async () => {
  await slurm?.stop();
});

test('a pilot job runs, is listed by name with its node and its end, and is cancelled', async () => {
  const s = slurm!;
  const client = new SlurmClient({ env: s.env, cwd: s.jobsDir });
  const script = '#!/bin/sh\ntrap \'date +%s > usr1.$SLURM_JOB_ID\' USR1\nwhile :; do sleep 1; done\n';
  const before = Math.floor(Date.now() / 1000);
  // A 2-minute limit with the signal 110 s before its end: it comes some 10 s after the start.
  const id = await client.submit({ name: 'vws-pilot-test', partition: s.partitions.low, nodes: 1, timeLimitSeconds: 120, signalSeconds: 110, output: 'pilot-%j.out', script });
  const running = await waitFor('the pilot running', async () => (await client.jobs('vws-pilot-test')).find((j) => j.id === id && j.state === 'RUNNING'), { timeoutMs: 60_000 });
  assert.equal(running.nodes.length, 1);
  assert.ok(s.nodeNames.includes(running.nodes[0]), `${running.nodes[0]} is one of ${s.nodeNames.join(', ')}`);
  assert.equal(running.partition, s.partitions.low);
  assert.ok(running.startsAt !== null && running.startsAt >= before - 1, `started at ${running.startsAt}, submitted at ${before}`);
  assert.equal(running.endsAt, running.startsAt! + 120, 'its time limit ends it two minutes after its start');
  assert.deepEqual(await client.jobs('vws-someone-else'), []);
  // Its SIGUSR1 (--signal=B:USR1@110) is Slurm's to send up to a minute early: waiting for it here
  // would cost that minute; the pilot's end-to-end test has the signal come with a preemption.
  assert.match(await s.command('scontrol', ['show', 'job', id]), /\bBatchFlag=1\b/);
  await client.cancel(id);
  const gone = await waitFor('the pilot cancelled', async () => (await client.jobs('vws-pilot-test')).find((j) => j.id === id && j.state === 'CANCELLED'), { timeoutMs: 60_000 });
  assert.equal(gone.state, 'CANCELLED');
});

test('Slurm refusing a submission is an error with what sbatch said; bad arguments are refused before Slurm is asked', async () => {
  const s = slurm!;
  const client = new SlurmClient({ env: s.env, cwd: s.jobsDir });
  await assert.rejects(client.submit({ name: 'vws-pilot-test', partition: 'nosuch', nodes: 1, timeLimitSeconds: 120, signalSeconds: 30, output: 'x.out', script: '#!/bin/sh\ntrue\n' }), /sbatch .* failed: .*(invalid partition|nosuch)/i);
  await assert.rejects(client.submit({ name: 'vws-pilot-test', nodes: 0, timeLimitSeconds: 120, signalSeconds: 30, output: 'x.out', script: '' }), /at least 1; got 0/);
  await assert.rejects(client.cancel('1; rm -rf /'), /is not a Slurm job id/);
  assert.throws(() => slurmDuration(59), /at least 60 s; got 59/);
  assert.deepEqual([slurmDuration(60), slurmDuration(61), slurmDuration(86_400 + 3600 * 2 + 60 * 3)], ['0-00:01:00', '0-00:02:00', '1-02:03:00']);
});

test('squeue printing what is not a job line is an error that quotes it', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'vws-fake-slurm-'));
  after(() => rmSync(dir, { recursive: true, force: true }));
  const cases: Array<[string, RegExp]> = [
    ['12|RUNNING|1796619838|1796623438|n1|None', /expected 7 fields/],
    ['x12|RUNNING|1796619838|1796623438|n1|None|low', /'x12' is not a job id/],
    ['12|WANDERING|1796619838|1796623438|n1|None|low', /'WANDERING' is not a job state/],
    ['12|RUNNING|2026-12-07T06:00:00|1796623438|n1|None|low', /'2026-12-07T06:00:00' is not a time in epoch seconds/],
  ];
  for (const [line, why] of cases) {
    writeFileSync(join(dir, 'squeue'), `#!/bin/sh\necho '${line}'\n`);
    chmodSync(join(dir, 'squeue'), 0o755);
    await assert.rejects(new SlurmClient({ binDir: dir }).jobs('vws-pilot'), (e: Error) => why.test(e.message) && e.message.includes('squeue printed'), line);
  }
  writeFileSync(join(dir, 'squeue'), "#!/bin/sh\necho '12|PENDING|N/A|N/A||Priority|low'\n");
  assert.deepEqual(await new SlurmClient({ binDir: dir }).jobs('vws-pilot'), [{ id: '12', state: 'PENDING', nodes: [], startsAt: null, endsAt: null, reason: 'Priority', partition: 'low' }]);
});
