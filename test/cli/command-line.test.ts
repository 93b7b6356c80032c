// The vws command line as a person meets it, without a server: help, version, errors, where the
// global options may go, shell completion, and what `vws --help` loads.

import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { parseLine } from '../../src/cli/program.ts';
import { UsageError } from '../../src/cli/usage-error.ts';
import { bin, root } from '../support/vws-bin.ts';

function vws(args: string[], options: { nodeArgs?: string[]; env?: NodeJS.ProcessEnv } = {}) {
  const r = spawnSync(process.execPath, [...(options.nodeArgs ?? []), bin, ...args], { cwd: root, encoding: 'utf8', env: { ...process.env, ...options.env } });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

const version = (JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { version: string }).version;

test('--version and the version command print the package version', () => {
  for (const args of [['--version'], ['-V'], ['version']]) {
    const r = vws(args);
    assert.equal(r.status, 0, r.stderr);
    assert.equal(r.stdout, `vws ${version}\n`);
  }
});

test('help lists every command; a command\'s help lists its options and the global ones', () => {
  const top = vws(['--help']);
  assert.equal(top.status, 0, top.stderr);
  for (const command of ['demo', 'serve', 'agent', 'agent-swarm', 'sim', 'sim-pilots', 'login', 'lease', 'workspace', 'node', 'image', 'trust', 'user', 'group', 'token', 'usage', 'account', 'terms', 'completion']) {
    assert.match(top.stdout, new RegExp(`^  ${command}\\b`, 'm'), command);
  }
  const lease = vws(['lease', '--help']);
  assert.equal(lease.status, 0);
  for (const sub of ['create', 'quote', 'hold', 'commit', 'list', 'show', 'stop', 'suspend', 'resume', 'migrate', 'cancel', 'watch']) {
    assert.match(lease.stdout, new RegExp(`^  ${sub}\\b`, 'm'), sub);
  }
  const create = vws(['lease', 'create', '--help']);
  assert.equal(create.status, 0);
  assert.match(create.stdout, /^Usage: vws lease create \[options\]/);
  assert.match(create.stdout, /^ {2}--kind <K> +the kind of lease \(best-effort\)/m);
  assert.match(create.stdout, /^Global Options:\n(.*\n)* {2}--server <URL> /m);
  assert.match(create.stdout, /^durations: seconds \(90\)/m);
  const sim = vws(['help', 'sim']);
  assert.match(sim.stdout, /^scheduling:\n(.*\n)* {2}--policy <NAME> +which preemptible leases give way first:\s+youngest-first \| /m);
  assert.match(vws(['serve', '-h']).stdout, /^ {2}--driver <NAME> /m);
});

test('no command prints the help on stderr and exits 2', () => {
  const r = vws([]);
  assert.equal(r.status, 2);
  assert.equal(r.stdout, '');
  assert.match(r.stderr, /^Usage: vws <command> \[options\]/);
});

test('an unknown command or option exits 2, names it, and says where the options are', () => {
  const cases: Array<[string[], RegExp]> = [
    [['frobnicate'], /^vws: unknown command 'frobnicate'; the commands are demo, serve, agent, agent-swarm, sim, sim-pilots, version, completion, login, lease, workspace, node, pilot, image, trust, user, group, token, usage, account, terms, backends\nrun `vws --help` for the options\n$/],
    [['leese', 'list'], /^vws: unknown command 'leese'; the commands are .*\n\(Did you mean lease\?\)\n/],
    [['lease', 'frobnicate'], /^vws: lease has no subcommand 'frobnicate'; it has create, quote, hold, commit, list, show, stop, suspend, resume, migrate, cancel, change, extend, shorten, resize, move, watch\nrun `vws lease --help`/],
    [['lease', 'list', '--colour'], /^vws: unknown option '--colour'\nrun `vws lease list --help` for the options\n$/],
    [['--colour', 'lease', 'list'], /^vws: unknown option '--colour'\n/],
    [['sim', '--trace'], /^vws: option '--trace <FILE>' argument missing\nrun `vws sim --help`/],
    [['serve', '--listne', 'x'], /^vws: unknown option '--listne'\n\(Did you mean --listen\?\)\nrun `vws serve --help`/],
    [['lease', 'stop'], /^vws: lease stop needs ID: vws lease stop <ID>\n/],
    [['lease', 'list', '--status', 'runing'], /^vws: option '--status <S>' argument 'runing' is invalid. Allowed choices are pending, scheduled, /],
    [['completion', 'fish'], /value 'fish' is invalid for argument 'shell'. Allowed choices are bash/],
  ];
  for (const [args, message] of cases) {
    const r = vws(args);
    assert.equal(r.status, 2, `${args.join(' ')}: ${r.stderr}`);
    assert.equal(r.stdout, '');
    assert.match(r.stderr, message, args.join(' '));
  }
});

test('global options are read wherever they stand on the line', async () => {
  const lines = [
    ['--server', 'http://a:1', '--token', 't', '--json', 'lease', 'list', '--all'],
    ['lease', '--server', 'http://a:1', 'list', '--token', 't', '--all', '--json'],
    ['lease', 'list', '--all', '--server', 'http://a:1', '--token', 't', '--json'],
    ['--json', 'lease', 'list', '--token=t', '--server=http://a:1', '--all'],
  ];
  for (const line of lines) {
    const { path, values } = await parseLine(line);
    assert.equal(path, 'lease list', line.join(' '));
    assert.deepEqual([values.server, values.token, values.json, values.all], ['http://a:1', 't', true, true], line.join(' '));
  }
  const agent = await parseLine(['agent', '--name', 'n1', '--server', 'http://a:1']);
  assert.deepEqual([agent.path, agent.values.server, agent.values.name], ['agent', 'http://a:1', 'n1']);
  const relayOff = await parseLine(['agent', '--server', 'http://a:1', '--context-relay', 'off']);
  assert.equal(relayOff.values['context-relay'], 'off');
  const { agentCommand } = await import('../../src/cli/agent-command.ts');
  await assert.rejects(agentCommand({ server: 'http://a:1', token: 't', 'context-relay': 'maybe' }), (e: Error) => e instanceof UsageError && /--context-relay must be on or off, got 'maybe'/.test(e.message));
  const cgroups = await parseLine(['agent', '--server', 'http://a:1', '--cgroups', 'on', '--cgroup-parent', '/vws.slice']);
  assert.deepEqual([cgroups.values.cgroups, cgroups.values['cgroup-parent']], ['on', '/vws.slice']);
  await assert.rejects(agentCommand({ server: 'http://a:1', token: 't', cgroups: 'maybe' }), (e: Error) => e instanceof UsageError && /--cgroups must be on or off, got 'maybe'/.test(e.message));
  await assert.rejects(agentCommand({ server: 'http://a:1', token: 't', 'cgroup-parent': '/a/../b' }), (e: Error) => e instanceof UsageError && /--cgroup-parent must be an absolute path .* without \. or \.\., got '\/a\/\.\.\/b'/.test(e.message));
  await assert.rejects(agentCommand({ server: 'http://a:1', token: 't', cgroups: 'off', 'cgroup-parent': '/x' }), (e: Error) => e instanceof UsageError && /leave it out with --cgroups off/.test(e.message));
  const sim = await parseLine(['--json', 'sim', '--trace', 't.swf', '--inject', 'a.lwf', '--inject', 'b.lwf', '--no-migration']);
  assert.deepEqual([sim.values.json, sim.values.inject, sim.values['no-migration']], [true, ['a.lwf', 'b.lwf'], true]);
  const group = await parseLine(['group', 'add', 'lab', '--no-share']);
  assert.deepEqual([group.positionals, group.values['no-share']], [['lab'], true]);
  await assert.rejects(parseLine(['lease', 'create', '--preemptible', '--no-preemptible']), (e: Error) => e instanceof UsageError && /--preemptible and --no-preemptible contradict each other/.test(e.message));
});

test('vws --help loads neither the service, nor the stores, nor the simulator', () => {
  const record = join(mkdtempSync(join(tmpdir(), 'vws-imports-')), 'imports.txt');
  writeFileSync(record, '');
  const r = vws(['--help'], { nodeArgs: ['--import', join(root, 'test/support/record-imports.mjs')], env: { VWS_RECORD_IMPORTS: record } });
  assert.equal(r.status, 0, r.stderr);
  const loaded = readFileSync(record, 'utf8').trim().split('\n');
  assert.ok(loaded.some((u) => u.endsWith('/dist/cli/main.js')), `the recording works: ${loaded.join(' ')}`);
  const packages = new Set(loaded.flatMap((u) => /\/node_modules\/((?:@[^/]+\/)?[^/]+)\//.exec(u)?.[1] ?? []));
  assert.deepEqual([...packages], ['commander']);
  // The driver registry and its plugins' descriptions are read for serve's --driver help; they load no driver.
  const light = /\/dist\/drivers\/(registry|[^/]+\/plugin|[^/]+\/[^/]+\/plugin)\.js$/;
  const heavy = loaded.filter((u) => !light.test(u) && /\/dist\/(api|store|control|agent|drivers)\/|\/dist\/sim\/(simulator|experiment)\.js|\/dist\/core\/scheduler\.js/.test(u));
  assert.deepEqual(heavy, []);
});

test('vws completion bash completes commands, options and option values', () => {
  const script = vws(['completion', 'bash']);
  assert.equal(script.status, 0, script.stderr);
  const file = join(mkdtempSync(join(tmpdir(), 'vws-completion-')), 'vws.bash');
  writeFileSync(file, script.stdout);
  /** What bash offers for the line `words`, the last word being the one completed. */
  const complete = (...words: string[]): string[] => {
    const line = ['vws', ...words];
    const r = spawnSync('bash', ['-c', `source ${file}; COMP_WORDS=(${line.map((w) => `'${w}'`).join(' ')}); COMP_CWORD=${line.length - 1}; _vws; printf '%s\\n' "\${COMPREPLY[@]}"`], { encoding: 'utf8' });
    assert.equal(r.status, 0, r.stderr);
    return r.stdout.split('\n').filter(Boolean);
  };
  assert.deepEqual(complete('le'), ['lease']);
  assert.deepEqual(complete('lease', 's'), ['show', 'stop', 'suspend', 'shorten']);
  assert.deepEqual(complete('--server', 'http://x', 'lease', 'cr'), ['create'], 'a global option\'s value is not taken for a command');
  assert.deepEqual(complete('lease', 'create', '--ki'), ['--kind']);
  assert.deepEqual(complete('lease', 'create', '--kind', 'ex'), ['exact']);
  assert.ok(complete('lease', 'list', '--').includes('--server'), 'global options are offered too');
  assert.deepEqual(complete('sim', '--backfill', 'x', '--no-m'), ['--no-migration']);
});

test('bin/vws.js without dist/ says to build', () => {
  const dir = mkdtempSync(join(tmpdir(), 'vws-nodist-'));
  mkdirSync(join(dir, 'bin'));
  copyFileSync(bin, join(dir, 'bin/vws.js'));
  const r = spawnSync(process.execPath, [join(dir, 'bin/vws.js'), '--help'], { encoding: 'utf8' });
  assert.equal(r.status, 2);
  assert.match(r.stderr, /^vws: .*\/dist\/cli\/main\.js is missing: run npm run build/);
});
