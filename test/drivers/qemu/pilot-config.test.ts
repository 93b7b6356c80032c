// The pilot policy file is read strictly (each wrong field named), the pilots' batch script is
// valid sh that passes every word through unchanged whatever it holds, and the pilot back-end
// takes only the leases a node that may be taken back can keep.

import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { test } from 'node:test';
import fc from 'fast-check';
import { parsePilotConfig, pilotConfigFromText } from '../../../src/drivers/qemu/pilot/pilot-config.ts';
import { pilotScript, shellWord } from '../../../src/drivers/qemu/pilot/pilot-script.ts';
import { pilotTermsRefusal } from '../../../src/drivers/qemu/pilot/plugin.ts';
import type { LeaseRequest } from '../../../src/core/types.ts';

const good = {
  partition: 'low', maxPilots: 2, timeLimitSeconds: 3600, idleTimeoutSeconds: 300, graceSeconds: 120,
  node: { cpu: 8, memoryMiB: 32768 },
  agent: { command: ['/usr/local/bin/vws', 'agent'], servers: ['http://vws.example.org:8080'], tokenFile: '/etc/vws/pilot-token', depot: '/shared/vws-depot', dataDir: '/tmp/vws-pilot' },
};

test('a pilot policy reads with its defaults', () => {
  const c = parsePilotConfig(good);
  assert.deepEqual([c.jobName, c.nodesPerPilot, c.pollSeconds, c.node.diskMiB, c.agent.args, c.slurm], ['vws-pilot', 1, 10, 0, [], {}]);
});

test('each wrong field of a pilot policy is refused by name', () => {
  const cases: Array<[unknown, RegExp]> = [
    [[], /\(the whole file\): must be an object/],
    [{ ...good, maxPilot: 2 }, /\(top level\): unknown field 'maxPilot'; the fields are jobName, partition/],
    [{ ...good, maxPilots: 0 }, /maxPilots: must be a whole number of pilots, 1 to 10000, got 0/],
    [{ ...good, maxPilots: '2' }, /maxPilots: .*got "2"/],
    [{ ...good, timeLimitSeconds: 1e9 }, /timeLimitSeconds: must be a whole number of seconds, 120 to/],
    [{ ...good, graceSeconds: 2000 }, /graceSeconds: 2000 s is more than half the time limit \(3600 s\)/],
    [{ ...good, partition: 'low;rm -rf /' }, /partition: 'low;rm -rf \/' is not a name Slurm takes/],
    [{ ...good, node: { cpu: 8 } }, /node.memoryMiB: must be a whole number of MiB/],
    [{ ...good, agent: { ...good.agent, depot: 'shared/depot' } }, /agent.depot: must be an absolute path \(it is read on the batch system's nodes\)/],
    [{ ...good, agent: { ...good.agent, servers: ['vws.example.org'] } }, /agent.servers\[0\]: 'vws.example.org' is not a URL/],
    [{ ...good, agent: { ...good.agent, servers: ['ftp://x'] } }, /agent.servers\[0\]: must be an http or https URL/],
    [{ ...good, agent: { ...good.agent, command: [] } }, /agent.command: must be a list of at least one string/],
    [{ ...good, agent: { ...good.agent, token: 'x' } }, /agent: unknown field 'token'/],
    [{ ...good, slurm: { conf: 'slurm.conf' } }, /slurm.conf: must be an absolute path/],
  ];
  for (const [raw, why] of cases) assert.throws(() => parsePilotConfig(raw), (e: Error) => e.name === 'PilotConfigError' && /^pilot configuration /.test(e.message) && why.test(e.message), JSON.stringify(raw));
  assert.throws(() => pilotConfigFromText('/etc/vws/pilots.json', '{ "maxPilots": '), /pilot configuration in \/etc\/vws\/pilots.json: is not JSON/);
});

const sh = (script: string): string => execFileSync('sh', ['-c', script], { encoding: 'utf8', env: { PATH: process.env.PATH, SLURMD_NODENAME: 'n7', SLURM_JOB_ID: '4242' } });

test('a word passes through sh unchanged, whatever it holds; %n and %j become the node and the job', () => {
  fc.assert(fc.property(fc.string({ unit: 'binary', maxLength: 40 }).filter((w) => !w.includes('\0') && !/%[nj]/.test(w)), (word) => {
    assert.equal(sh(`printf '%s' ${shellWord(word)}`), word);
  }), { numRuns: 200 });
  assert.equal(sh(`printf '%s' ${shellWord("it's %n of job %j; $HOME `id`")}`), "it's n7 of job 4242; $HOME `id`");
});

test('the batch script is valid sh, reads the token from its file, and runs the agent with the pilot\'s name, job, depot and data', () => {
  const base = parsePilotConfig(good);
  // The agent's command replaced by printf: running the script prints the agent's arguments, one a line.
  const one = pilotScript({ ...base, agent: { ...base.agent, command: ['printf', '%s\\n'], tokenFile: '/dev/null', args: ['--netns', 'ns-%n', "it's"] } });
  execFileSync('sh', ['-n', '-c', one]);
  assert.match(one, /^exec 'printf'/m, 'one node: the agent is the batch shell itself, so that --signal=B:USR1 reaches it');
  assert.deepEqual(sh(one).split('\n').filter(Boolean), [
    '--server', 'http://vws.example.org:8080', '--name', 'pilot-4242-n7', '--pilot-job', '4242', '--depot', '/shared/vws-depot', '--data', '/tmp/vws-pilot/4242-n7', '--netns', 'ns-n7', "it's",
  ]);
  assert.match(pilotScript(base), /^VWS_AGENT_TOKEN=\$\(cat '\/etc\/vws\/pilot-token'\)\nexport VWS_AGENT_TOKEN$/m);
  const several = pilotScript({ ...base, nodesPerPilot: 3 });
  execFileSync('sh', ['-n', '-c', several]);
  assert.match(several, /^srun --ntasks-per-node=1 --kill-on-bad-exit=0 sh -c 'exec .*' &$/m);
  assert.match(several, /^trap 'kill -USR1 "\$step" 2>\/dev\/null' USR1$/m, 'several nodes: the batch shell passes the signal on to the agents');
});

test('pilot nodes take preemptible best-effort leases and reservations, nothing that may not be moved', () => {
  const req = (kind: LeaseRequest['kind'], preemptible: boolean, roles = false): LeaseRequest => ({
    id: 'l', kind, arrival: 0, requestedStart: kind === 'best-effort' ? null : 100, duration: 60, nodes: 1, perNode: { cpu: 1, memoryMiB: 128, diskMiB: 0 }, preemptible,
    ...(roles ? { roles: [{ name: 'head', count: 1, perNode: { cpu: 1, memoryMiB: 128, diskMiB: 0 } }] } : {}),
  } as LeaseRequest);
  assert.equal(pilotTermsRefusal(req('best-effort', true)), null);
  assert.equal(pilotTermsRefusal(req('exact', false)), null);
  assert.match(pilotTermsRefusal(req('best-effort', false))!, /a non-preemptible best-effort lease cannot be kept there; ask for a preemptible best-effort lease/);
  for (const kind of ['immediate', 'urgent', 'deadline'] as const) assert.match(pilotTermsRefusal(req(kind, false))!, new RegExp(`${kind} lease cannot be kept there`));
  assert.match(pilotTermsRefusal(req('best-effort', true, true))!, /virtual clusters do not run on pilot nodes/);
});
