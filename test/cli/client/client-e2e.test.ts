// The vws client against a real server, as child processes: an administrator and a user,
// alice, each with a config file written by `vws login`.

import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { timeSeconds } from '../../../src/cli/client/parse-time.ts';
import { BOOTSTRAP_TOKEN, freePort, lineMatching, type RealServer, startServer, vws, vwsBackground } from './real-server.ts';
import { waitFor } from '../../support/wait.ts';

/** Polls the lease until it has `status`; the simulated driver takes a moment for each step. */
async function statusBecomes(config: string, id: string, status: string): Promise<void> {
  let seen = '';
  await waitFor(`lease ${id} to be ${status}`, () => (seen = JSON.parse(vws(config, 'lease', 'show', id, '--json').stdout).status) === status, { everyMs: 100, seen: () => seen });
}

describe('vws client against vws serve', { timeout: 300_000 }, () => {
  let dir: string;
  let server: RealServer;
  let admin: string;
  let alice: string;
  let aliceLease: string;
  let aliceToken: string;

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'vws-client-'));
    server = await startServer(join(dir, 'data'), await freePort());
    admin = join(dir, 'admin', 'config.json');
    alice = join(dir, 'alice', 'config.json');
  });

  after(async () => {
    await server?.kill();
    rmSync(dir, { recursive: true, force: true });
  });

  test('login refuses a token the server does not accept and stores nothing', () => {
    const r = vws(admin, 'login', '--server', `${server.url}/v1`, '--token', 'not-a-token');
    assert.equal(r.status, 1, r.stderr);
    assert.match(r.stderr, /^vws: send a valid token .*\(unauthorized\)\nnothing was stored/);
    assert.equal(existsSync(admin), false);
  });

  test('login checks the token and stores server and token in a file only its owner can read', () => {
    const r = vws(admin, 'login', '--server', `${server.url}/v1`, '--token', BOOTSTRAP_TOKEN);
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /logged in to http:\/\/127\.0\.0\.1:\d+ as admin \(admin\)/);
    assert.equal(statSync(admin).mode & 0o777, 0o600);
    assert.equal(statSync(join(dir, 'admin')).mode & 0o777, 0o700);
    assert.deepEqual(JSON.parse(readFileSync(admin, 'utf8')), { server: server.url, token: BOOTSTRAP_TOKEN });
  });

  test('the admin adds alice and makes her a token; she logs in with it', () => {
    assert.equal(vws(admin, 'user', 'add', 'alice').status, 0);
    const made = vws(admin, 'token', 'create', '--user', 'alice', '--label', 'laptop', '--json');
    assert.equal(made.status, 0, made.stderr);
    const { token, user } = JSON.parse(made.stdout);
    assert.equal(user, 'alice');
    aliceToken = token;
    const login = vws(alice, 'login', '--server', server.url, '--token', token);
    assert.equal(login.status, 0, login.stderr);
    assert.match(login.stdout, /as alice;/);
    const listed = JSON.parse(vws(alice, 'token', 'list', '--json').stdout);
    assert.deepEqual(listed.tokens.map((t: { label: string }) => t.label), ['laptop']);
  });

  test('alice creates a best-effort lease, lists it and shows it with its workspace', () => {
    const created = vws(alice, 'lease', 'create', '--kind', 'best-effort', '--nodes', '1', '--cpu', '1', '--memory', '1024', '--duration', '2h', '--json');
    assert.equal(created.status, 0, created.stderr);
    const { lease } = JSON.parse(created.stdout);
    aliceLease = lease.id;
    assert.equal(lease.owner, 'alice');
    assert.deepEqual(lease.spec, { kind: 'best-effort', nodes: 1, cpu: 1, memoryMiB: 1024, diskMiB: 0, duration: 7200, preemptible: true });

    const list = vws(alice, 'lease', 'list');
    assert.equal(list.status, 0, list.stderr);
    assert.match(list.stdout, /^ID\s+KIND\s+STATUS\s+OWNER/);
    assert.match(list.stdout, new RegExp(`^${aliceLease}\\s+best-effort\\s+\\S+\\s+alice\\s`, 'm'));

    const show = vws(alice, 'lease', 'show', aliceLease);
    assert.equal(show.status, 0, show.stderr);
    assert.match(show.stdout, new RegExp(`^lease\\s+${aliceLease}$`, 'm'));
    assert.match(show.stdout, /^asked\s+1 x \(1 CPU, 1024 MiB\) for 2h, preemptible$/m);
    assert.match(show.stdout, /^INDEX\s+HOSTNAME\s+NODE\s+STATUS\s+IP/m);
    const shown = JSON.parse(vws(alice, 'lease', 'show', aliceLease, '--json').stdout);
    assert.equal(shown.workspaces.length, 1);
    const ws = JSON.parse(vws(alice, 'workspace', 'show', aliceLease, '0', '--json').stdout);
    assert.deepEqual(ws, shown.workspaces[0]);
    const missing = vws(alice, 'workspace', 'show', aliceLease, '5');
    assert.equal(missing.status, 1);
    assert.match(missing.stderr, /has no workspace 5 \(it has 0\)/);
  });

  test('without --kind a lease is best-effort; its owner stops, suspends and resumes it', async () => {
    const created = vws(alice, 'lease', 'create', '--nodes', '1', '--cpu', '1', '--memory', '64', '--duration', '1h', '--json');
    assert.equal(created.status, 0, created.stderr);
    const { lease } = JSON.parse(created.stdout);
    assert.equal(lease.spec.kind, 'best-effort');
    await statusBecomes(alice, lease.id, 'running');

    assert.match(vws(alice, 'lease', 'resume', lease.id).stderr, /^vws: .*nothing to resume \(wrong-state\)$/m, 'a running lease has nothing to resume');
    const other = vws(admin, 'lease', 'create', '--nodes', '1', '--cpu', '1', '--memory', '64', '--duration', '1h', '--json');
    const notHers = vws(alice, 'lease', 'stop', JSON.parse(other.stdout).lease.id);
    assert.equal(notHers.status, 1);
    assert.match(notHers.stderr, /\(not-found\)$/m, 'a lease alice may not see is not there for her to stop');

    const suspended = vws(alice, 'lease', 'suspend', lease.id);
    assert.equal(suspended.status, 0, suspended.stderr);
    assert.match(suspended.stdout, new RegExp(`^lease ${lease.id} suspend: now (suspending|suspended)\n$`));
    await statusBecomes(alice, lease.id, 'suspended');
    const resumed = vws(alice, 'lease', 'resume', lease.id, '--json');
    assert.equal(resumed.status, 0, resumed.stderr);
    assert.equal(JSON.parse(resumed.stdout).lease.id, lease.id);
    await statusBecomes(alice, lease.id, 'running');
    const stopped = vws(alice, 'lease', 'stop', lease.id);
    assert.equal(stopped.status, 0, stopped.stderr);
    assert.match(stopped.stdout, new RegExp(`^lease ${lease.id} stop: now \\S+\n$`));
    await statusBecomes(alice, lease.id, 'done');
    assert.equal(vws(admin, 'lease', 'cancel', JSON.parse(other.stdout).lease.id).status, 0);
  });

  test('global options work before the command, between its words and after them', () => {
    const nowhere = join(dir, 'no-config.json');
    const lines = [
      ['--server', server.url, '--token', aliceToken, '--json', 'lease', 'list', '--all'],
      ['lease', '--server', server.url, 'list', '--all', '--token', aliceToken, '--json'],
      ['lease', 'list', '--all', '--json', '--server', server.url, '--token', aliceToken],
    ];
    const answers = lines.map((line) => {
      const r = vws(nowhere, ...line);
      assert.equal(r.status, 0, `${line.join(' ')}: ${r.stderr}`);
      return JSON.parse(r.stdout).leases.map((l: { id: string }) => l.id);
    });
    assert.ok(answers[0].includes(aliceLease));
    assert.deepEqual(answers[1], answers[0]);
    assert.deepEqual(answers[2], answers[0]);
    const who = vws(nowhere, '--token', aliceToken, 'login', '--server', server.url, '--json');
    assert.equal(who.status, 0, who.stderr);
    assert.equal(JSON.parse(who.stdout).id, 'alice');
  });

  test('an exact lease that does not fit is refused with alternatives, and the printed alternative is accepted', () => {
    const whole = ['--kind', 'exact', '--nodes', '4', '--cpu', '4', '--memory', '1024', '--duration', '1h', '--start', '+1h'];
    const first = vws(admin, 'lease', 'create', ...whole);
    assert.equal(first.status, 0, first.stderr);

    const refused = vws(alice, 'lease', 'create', ...whole);
    assert.equal(refused.status, 1, refused.stdout);
    assert.equal(refused.stdout, '');
    assert.match(refused.stderr, /^vws: .*\(insufficient-capacity\)$/m);
    assert.match(refused.stderr, /^earliest start that works: \S+Z \(in /m);
    assert.match(refused.stderr, /^would be accepted instead:$/m);
    const command = refused.stderr.split('\n').map((l) => l.trim()).find((l) => l.startsWith('vws lease create '));
    assert.ok(command, refused.stderr);

    const quoted = vws(alice, 'lease', 'quote', ...whole);
    assert.equal(quoted.status, 0, quoted.stderr);
    assert.match(quoted.stdout, /^exact lease would be refused \(insufficient-capacity\)/);
    assert.ok(quoted.stdout.includes(command), 'quote prints the same alternative');

    const words = command.split(' ').slice(1);
    const start = timeSeconds(words[words.indexOf('--start') + 1], 0);
    const again = vws(alice, ...words, '--json');
    assert.equal(again.status, 0, again.stderr);
    const placed = JSON.parse(again.stdout).lease;
    assert.equal(placed.status, 'scheduled');
    assert.equal(placed.plannedStart, start);
  });

  test('a held lease is committed; a repeated idempotency key returns the first lease', () => {
    const spec = ['--kind', 'exact', '--start', '+10m', '--nodes', '1', '--cpu', '1', '--memory', '512', '--duration', '10m'];
    const held = vws(alice, 'lease', 'hold', ...spec, '--ttl', '10m');
    assert.equal(held.status, 0, held.stderr);
    const id = /^lease (\S+) held: held$/m.exec(held.stdout)?.[1];
    assert.ok(id, held.stdout);
    assert.match(held.stdout, new RegExp(`the hold lapses in 10m unless committed: vws lease commit ${id}$`, 'm'));
    const committed = vws(alice, 'lease', 'commit', id, '--json');
    assert.equal(committed.status, 0, committed.stderr);
    assert.notEqual(JSON.parse(committed.stdout).lease.status, 'held');
    assert.match(vws(alice, 'lease', 'hold', ...spec, '--ttl', '2d').stderr, /--ttl must be at most 1d/);
    const immediate = vws(alice, 'lease', 'hold', '--kind', 'immediate', ...spec.slice(4), '--ttl', '10m');
    assert.equal(immediate.status, 2);
    assert.match(immediate.stderr, /only exact, deadline and periodic leases can be held, not immediate/);

    const keyed = ['--kind', 'best-effort', '--nodes', '1', '--cpu', '1', '--memory', '512', '--duration', '10m', '--idempotency-key', 'retry-1'];
    const first = vws(alice, 'lease', 'create', ...keyed);
    const second = vws(alice, 'lease', 'create', ...keyed);
    const firstId = /^lease (\S+) created: /.exec(first.stdout)?.[1];
    assert.ok(firstId, first.stdout + first.stderr);
    assert.match(second.stdout, new RegExp(`^lease ${firstId} already created with this idempotency key: `));
    for (const lease of [id, firstId]) assert.equal(vws(alice, 'lease', 'cancel', lease).status, 0);
  });

  test('a refusal with --json also prints the API error, alternatives and all, on stdout', () => {
    const r = vws(alice, 'lease', 'create', '--kind', 'best-effort', '--nodes', '9', '--cpu', '1', '--memory', '1024', '--duration', '1h', '--json');
    assert.equal(r.status, 1);
    const body = JSON.parse(r.stdout);
    assert.equal(body.code, 'exceeds-pool');
    assert.deepEqual(body.alternatives, []);
    assert.match(r.stderr, /^vws: asks for 9 nodes with 1 CPU and 1024 MiB each; the pool has 4 such nodes/);
  });

  test('nodes: the admin adds, lists, drains and removes one; alice may not', () => {
    const added = vws(admin, 'node', 'add', 'extra-1', '--cpu', '2', '--memory', '4096', '--disk', '1000');
    assert.equal(added.status, 0, added.stderr);
    assert.match(added.stdout, /node extra-1 added: 2 CPU, 4096 MiB, 1000 MiB disk/);
    const list = vws(admin, 'node', 'list');
    assert.match(list.stdout, /^extra-1\s+active\s+2\s+4096\s+1000\s+0\s/m);
    assert.equal(JSON.parse(vws(admin, 'node', 'list', '--json').stdout).nodes.length, 5);

    for (const args of [['list'], ['add', 'extra-2', '--cpu', '1', '--memory', '1'], ['drain', 'extra-1'], ['remove', 'extra-1']]) {
      const r = vws(alice, 'node', ...args);
      assert.equal(r.status, 1, args.join(' '));
      assert.match(r.stderr, /^vws: (GET|POST|DELETE) \/v1\/nodes(\/:id(\/drain)?)? is for administrators \(forbidden\)$/m);
    }

    const drained = vws(admin, 'node', 'drain', 'extra-1');
    assert.equal(drained.status, 0, drained.stderr);
    assert.match(drained.stdout, /node extra-1 draining/);
    const removed = vws(admin, 'node', 'remove', 'extra-1');
    assert.equal(removed.status, 0, removed.stderr);
    const after = JSON.parse(vws(admin, 'node', 'list', '--json').stdout).nodes.find((n: { id: string }) => n.id === 'extra-1');
    assert.equal(after.status, 'removed');
  });

  test('image add registers the file by size and sha256 and uploads it', () => {
    const file = join(dir, 'disk.img');
    const content = randomBytes(1024 * 1024 + 17);
    writeFileSync(file, content);
    const r = vws(alice, 'image', 'add', 'debian-12', '--file', file, '--json');
    assert.equal(r.status, 0, r.stderr);
    const sha256 = createHash('sha256').update(content).digest('hex');
    const { image, upload } = JSON.parse(r.stdout);
    assert.deepEqual({ name: image.name, sizeMiB: image.sizeMiB, sha256: image.sha256 }, { name: 'debian-12', sizeMiB: 2, sha256 });
    assert.deepEqual(upload, { name: 'debian-12', sha256, bytes: content.length });
    const listed = JSON.parse(vws(alice, 'image', 'list', '--json').stdout).images;
    assert.deepEqual(listed.map((i: { name: string; uploaded: boolean }) => [i.name, i.uploaded]), [['debian-12', true]]);
    const withImage = vws(alice, 'lease', 'quote', '--kind', 'best-effort', '--nodes', '1', '--cpu', '1', '--memory', '512', '--duration', '10m', '--image', 'debian-12', '--json');
    assert.equal(withImage.status, 0, withImage.stderr);
    assert.equal(JSON.parse(withImage.stdout).ok, true);
  });

  test('image add registers private unless asked; image share changes who sees it, and only an admin publishes', () => {
    const file = join(dir, 'tools.img');
    writeFileSync(file, randomBytes(4096));
    assert.equal(vws(alice, 'image', 'add', 'tools', '--file', file).status, 0);
    assert.match(vws(alice, 'image', 'list').stdout, /^tools\s+-\s+-\s+raw\s+1\s+-\s+-\s+alice\s+private\s+yes$/m);
    const publish = vws(alice, 'image', 'share', 'tools', '--visibility', 'public');
    assert.equal(publish.status, 1);
    assert.match(publish.stderr, /only an administrator may make an image public.*\(forbidden\)/);
    const shared = vws(admin, 'image', 'share', 'tools', '--visibility', 'public');
    assert.equal(shared.status, 0, shared.stderr);
    assert.equal(shared.stdout, 'image tools is public\n');
    assert.equal(JSON.parse(vws(alice, 'image', 'share', 'tools', '--visibility', 'private', '--json').stdout).visibility, 'private', 'the owner narrows it');
    assert.equal(vws(alice, 'image', 'share', 'tools').status, 2, 'nothing to change is a usage error');
    const wrong = vws(alice, 'image', 'add', 'other', '--file', file, '--visibility', 'everyone');
    assert.equal(wrong.status, 2);
    assert.match(wrong.stderr, /Allowed choices are private, group, public/);
  });

  test('lease watch ID follows the lease until it is cancelled, then exits', async () => {
    const watch = vwsBackground(alice, 'lease', 'watch', aliceLease);
    try {
      // The replay of its history shows the watch is connected before the cancel.
      await lineMatching(watch, new RegExp(`lease\\.status\\s+${aliceLease} new -> `));
      const cancel = vws(alice, 'lease', 'cancel', aliceLease);
      assert.equal(cancel.status, 0, cancel.stderr);
      assert.equal(cancel.stdout, `lease ${aliceLease} cancelled\n`);
      assert.equal(await watch.exit, 0, watch.stderrText());
      assert.match(watch.lines.at(-1)!, new RegExp(`^#\\d+\\s+\\S+Z\\s+lease\\.status\\s+${aliceLease} \\S+ -> cancelled \\(cancelled by alice\\)$`));
      assert.ok(watch.lines.every((l) => l.includes(aliceLease)), 'only that lease\'s events');
    } finally {
      watch.kill('SIGKILL');
    }
    const again = vws(alice, 'lease', 'cancel', aliceLease);
    assert.equal(again.status, 1);
    assert.match(again.stderr, /has already ended \(cancelled\).*\(wrong-state\)/);
  });

  test('lease list hides ended leases unless --all; --json output parses', () => {
    type Row = { id: string; status: string; owner: string };
    const ended = ['done', 'cancelled', 'rejected', 'failed'];
    const live: Row[] = JSON.parse(vws(alice, 'lease', 'list', '--json').stdout).leases;
    const all: Row[] = JSON.parse(vws(alice, 'lease', 'list', '--all', '--json').stdout).leases;
    assert.ok(all.some((l) => l.id === aliceLease));
    // usage is counted up to the moment of each read, so two reads a second apart differ there
    const still = (rows: Row[]) => rows.map(({ usage: _u, usageAt: _a, ...r }: Row & { usage?: unknown; usageAt?: number }) => r);
    assert.deepEqual(still(live), still(all.filter((l) => !ended.includes(l.status))));
    assert.ok(live.length > 0 && live.length < all.length);
    const paged = vws(alice, 'lease', 'list', '--all', '--page-size', '1', '--json');
    assert.deepEqual(still(JSON.parse(paged.stdout).leases), still(all), 'one lease a page, following next, gives the same list');
    const cancelled: Row[] = JSON.parse(vws(alice, 'lease', 'list', '--status', 'cancelled', '--json').stdout).leases;
    assert.ok(cancelled.some((l) => l.id === aliceLease));
    assert.ok(cancelled.every((l) => l.status === 'cancelled'));
    const usage = JSON.parse(vws(alice, 'usage', '--json').stdout);
    assert.deepEqual(Object.keys(usage.users), ['alice'], 'alice sees only her own usage');
    assert.equal(usage.users.alice.leases, all.length);
    assert.match(vws(admin, 'usage').stdout, /^USER\s+LEASES\s+CORE-HOURS\s+GiB-HOURS\s+CHARGED \(SU\)\s+USD\nadmin\s+2\s/, 'the admin\'s exact lease and the one alice may not stop');
  });

  test('users, groups and tokens', () => {
    assert.equal(vws(admin, 'group', 'add', 'lab', '--no-share').status, 0);
    assert.equal(vws(admin, 'group', 'add-member', 'lab', 'alice').status, 0);
    assert.deepEqual(JSON.parse(vws(admin, 'group', 'list', '--json').stdout).groups.map((g: { name: string; shareLeases: boolean; members: string[] }) => [g.name, g.shareLeases, g.members]), [['lab', false, ['alice']]]);
    assert.match(vws(admin, 'group', 'remove-member', 'lab', 'alice').stdout, /group lab: no members/);
    assert.match(vws(admin, 'user', 'list').stdout, /^alice\s+no\s/m);
    assert.match(vws(alice, 'user', 'list').stderr, /\(forbidden\)/);

    const made = vws(alice, 'token', 'create', '--expires', '1h');
    assert.equal(made.status, 0, made.stderr);
    assert.match(made.stdout, /^token \S+ for alice \(expires \S+Z\); it is shown only this once:\nvws_\S+\n$/);
    const id = made.stdout.split(' ')[1];
    assert.equal(vws(alice, 'token', 'revoke', id).status, 0);
    assert.equal(JSON.parse(vws(alice, 'token', 'list', '--json').stdout).tokens.length, 1);
  });

  test('bad input exits 2 and says what to write instead', () => {
    const cases: Array<[string[], RegExp, string]> = [
      [['lease', 'create', '--kind', 'best-effort', '--nodes', '1', '--cpu', '1', '--memory', '1', '--duration', '2x'], /--duration must be a duration: seconds \(90\) or units in the order d, h, m, s \(45s, 2h30m, 1d, 1h15m30s\); got '2x'/, 'lease create'],
      [['lease', 'create', '--kind', 'exact', '--nodes', '1', '--cpu', '1', '--memory', '1', '--duration', '1h', '--start', 'tomorrow'], /--start must be an ISO-8601 time with a zone \(2026-11-25T14:00:00Z.*epoch seconds.*\+1h/, 'lease create'],
      [['lease', 'create', '--kind', 'exact', '--nodes', '1', '--cpu', '1', '--memory', '1', '--duration', '1h'], /an exact lease needs --start TIME/, 'lease create'],
      [['lease', 'list', '--status', 'runing'], /option '--status <S>' argument 'runing' is invalid. Allowed choices are pending, scheduled, /, 'lease list'],
      [['lease', 'frobnicate'], /lease has no subcommand 'frobnicate'; it has create, quote, hold/, 'lease'],
      [['lease', 'show'], /lease show needs ID: vws lease show <ID>/, 'lease show'],
      [['node', 'list', '--colour'], /unknown option '--colour'/, 'node list'],
      [['token', 'create', '--expires', '30s'], /--expires must be at least 1m/, 'token create'],
      [['workspace', 'show', 'l-1', 'first'], /INDEX must be a whole number >= 0, got 'first'/, 'workspace show'],
    ];
    for (const [args, message, command] of cases) {
      const r = vws(alice, ...args);
      assert.equal(r.status, 2, `${args.join(' ')}: ${r.stderr}`);
      assert.match(r.stderr, message);
      assert.ok(r.stderr.endsWith(`\nrun \`vws ${command} --help\` for the options\n`), r.stderr);
    }
    const nowhere = vws(join(dir, 'none.json'), 'lease', 'list');
    assert.equal(nowhere.status, 2);
    assert.match(nowhere.stderr, /no server: pass --server URL, set VWS_SERVER, or run vws login/);
  });

  test('a server that cannot be reached is named in the error, exit 1', async () => {
    const port = await freePort();
    const r = vws(alice, 'lease', 'list', '--server', `http://127.0.0.1:${port}`);
    assert.equal(r.status, 1);
    assert.equal(r.stderr, `vws: could not reach the vws server at http://127.0.0.1:${port}: connection refused (ECONNREFUSED)\n`);
  });
});
