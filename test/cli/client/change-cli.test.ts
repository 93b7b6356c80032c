// Renegotiation from the command line against a real `vws serve`: extend, shorten, resize, move
// and change, each with --quote first; a refusal prints what would be accepted as commands.

import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { BOOTSTRAP_TOKEN, freePort, type RealServer, startServer, vws } from './real-server.ts';

describe('vws lease extend | shorten | resize | move | change against vws serve', { timeout: 300_000 }, () => {
  let dir: string;
  let server: RealServer;
  let admin: string;

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'vws-change-cli-'));
    server = await startServer(join(dir, 'data'), await freePort());
    admin = join(dir, 'admin.json');
    assert.equal(vws(admin, 'login', '--server', server.url, '--token', BOOTSTRAP_TOKEN).status, 0);
  });

  after(async () => {
    await server?.kill();
    rmSync(dir, { recursive: true, force: true });
  });

  const create = (...spec: string[]): string => {
    const r = vws(admin, 'lease', 'create', '--cpu', '1', '--memory', '64', ...spec, '--json');
    assert.equal(r.status, 0, r.stderr);
    return JSON.parse(r.stdout).lease.id;
  };
  const shown = (id: string) => JSON.parse(vws(admin, 'lease', 'show', id, '--json').stdout);

  test('extend and shorten a running lease, quoted first; the quote changes nothing', () => {
    const id = create('--nodes', '1', '--duration', '1h');
    const q = vws(admin, 'lease', 'extend', id, '--by', '2h', '--quote');
    assert.equal(q.status, 0, q.stderr);
    assert.match(q.stdout, new RegExp(`^lease ${id} can be changed: `, 'm'));
    assert.match(q.stdout, new RegExp(`to make it: vws lease change ${id} --duration 3h$`, 'm'));
    assert.equal(shown(id).spec.duration, 3600, 'a quote changes nothing');
    const made = vws(admin, 'lease', 'extend', id, '--by', '2h');
    assert.equal(made.status, 0, made.stderr);
    assert.match(made.stdout, new RegExp(`^lease ${id} changed: `));
    assert.equal(shown(id).spec.duration, 3 * 3600);
    assert.equal(vws(admin, 'lease', 'shorten', id, '--by', '1h30m').status, 0);
    assert.equal(shown(id).spec.duration, 5400);
    const gone = vws(admin, 'lease', 'shorten', id, '--by', '3h');
    assert.equal(gone.status, 2);
    assert.match(gone.stderr, /would leave lease .* no time at all: to end it now, vws lease stop/);
  });

  test('resize and move a scheduled exact lease; one that does not fit is refused with the changes that would be', () => {
    const id = create('--kind', 'exact', '--nodes', '2', '--start', '+1h', '--duration', '1h');
    const resized = vws(admin, 'lease', 'resize', id, '--nodes', '3', '--json');
    assert.equal(resized.status, 0, resized.stderr);
    assert.equal(JSON.parse(resized.stdout).change.nodes.length, 3);
    assert.equal(shown(id).spec.nodes, 3);
    const start = shown(id).spec.start;
    assert.equal(vws(admin, 'lease', 'move', id, '--start', String(start + 1800)).status, 0);
    assert.equal(shown(id).spec.start, start + 1800);
    // Every node (4 CPUs each, vws serve's default) is promised whole from three hours after the first lease's start.
    const r = vws(admin, 'lease', 'create', '--kind', 'exact', '--nodes', '4', '--cpu', '4', '--memory', '64', '--start', String(start + 3 * 3600), '--duration', '1h');
    assert.equal(r.status, 0, r.stderr);
    const refused = vws(admin, 'lease', 'change', id, '--duration', '4h');
    assert.equal(refused.status, 1, refused.stdout);
    assert.match(refused.stderr, /\(insufficient-capacity\)/);
    assert.match(refused.stderr, new RegExp(`instead \\(shorter, runs .*\\): vws lease change ${id} --duration \\S+`));
    assert.equal(shown(id).spec.duration, 3600, 'a refused change changes nothing');
    const bad = vws(admin, 'lease', 'change', id);
    assert.equal(bad.status, 2);
    assert.match(bad.stderr, /needs something to change: --duration, --start, --nodes, --cpu, --memory, --bandwidth, --role or --backend/);
    const running = create('--nodes', '1', '--duration', '1h');
    const grow = vws(admin, 'lease', 'resize', running, '--cpu', '0.5');
    assert.equal(grow.status, 1);
    assert.match(grow.stderr, /a running lease keeps its nodes, CPUs and memory; .*\(wrong-state\)/);
  });
});
