// One terms document for `vws serve --terms` and `vws sim --terms` (issue 17, item 1): the serve
// puts it in force at start and `vws terms show|set` reads and changes it; the simulator plans
// with its scheduling and rejects what its limits refuse, as the service would; a document that
// does not read stops either with the file and the path of what is wrong.

import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { bin, root } from '../support/vws-bin.ts';
import { BOOTSTRAP_TOKEN, freePort, startServer } from './client/real-server.ts';

const checker = new URL('../../../shared/tools/validate-schedule', import.meta.url).pathname;

function vws(args: string[], env: NodeJS.ProcessEnv = {}) {
  return spawnSync(process.execPath, [bin, ...args], { encoding: 'utf8', cwd: root, env: { ...process.env, ...env } });
}

const TERMS = {
  format: 'vws.terms/v1',
  kinds: { 'best-effort': { maxNodes: 4 }, exact: { maxNodes: 1, priceFactor: 2 } },
  scheduling: { backfill: 'conservative' },
};

test('a terms document that does not read stops vws serve and vws sim, naming the file and the path', () => {
  const dir = mkdtempSync(join(tmpdir(), 'vws-terms-'));
  try {
    const bad = join(dir, 'bad.json');
    writeFileSync(bad, JSON.stringify({ ...TERMS, kinds: { exact: { maxNodes: 1, maxDuration: '1h', minDuration: '2h' } } }));
    const serve = vws(['serve', '--data', join(dir, 'data'), '--listen', '127.0.0.1:0', '--terms', bad]);
    assert.equal(serve.status, 2, serve.stderr);
    assert.match(serve.stderr, new RegExp(`--terms ${bad}: terms\\.kinds\\.exact\\.maxDuration: the maximum \\(3600 s\\) is below the minimum`));
    const sim = vws(['sim', '--trace', join(root, 'test/fixtures/small.swf'), '--terms', bad]);
    assert.equal(sim.status, 2);
    assert.match(sim.stderr, /terms\.kinds\.exact\.maxDuration/);
    writeFileSync(bad, '{"format": "vws.terms/v1",');
    assert.match(vws(['sim', '--trace', join(root, 'test/fixtures/small.swf'), '--terms', bad]).stderr, /not JSON/);
    const good = join(dir, 'good.json');
    writeFileSync(good, JSON.stringify(TERMS));
    const both = vws(['sim', '--trace', join(root, 'test/fixtures/small.swf'), '--terms', good, '--backfill', 'none']);
    assert.equal(both.status, 2);
    assert.match(both.stderr, /--backfill and --terms: the terms document sets the scheduling/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('vws sim --terms plans with the document\'s scheduling and rejects what its limits refuse; the export passes the shared checker', () => {
  const dir = mkdtempSync(join(tmpdir(), 'vws-terms-'));
  try {
    const file = join(dir, 'terms.json');
    writeFileSync(file, JSON.stringify(TERMS));
    const schedule = join(dir, 's.jsonl');
    const args = ['sim', '--trace', join(root, 'test/fixtures/small.swf'), '--inject', join(root, 'test/fixtures/ars.lwf'), '--nodes', '8', '--json'];
    const run = vws([...args, '--terms', file, '--schedule', schedule]);
    assert.equal(run.status, 0, run.stderr);
    const m = JSON.parse(run.stdout);
    const lines = readFileSync(schedule, 'utf8').trim().split('\n').slice(1).map((l) => JSON.parse(l));
    const byPolicy = lines.filter((l) => l.reason === 'policy');
    // The fixture's reservations ask for 4 and 2 nodes: both beyond the terms' 1; its best-effort leases for up to 5 nodes.
    assert.ok(byPolicy.some((l) => l.kind === 'exact'), 'an advance reservation beyond the limit is rejected');
    for (const l of byPolicy) assert.ok(l.kind === 'exact' ? l.nodes > 1 : l.nodes > 4, JSON.stringify(l));
    for (const l of lines.filter((x) => x.reason !== 'policy')) assert.ok(l.kind === 'exact' ? l.nodes <= 1 : l.nodes <= 4 || l.kind !== 'best-effort', JSON.stringify(l));
    assert.equal(m.rejected, lines.filter((l) => l.outcome === 'rejected').length, 'the metrics count the leases the terms rejected');
    const check = spawnSync('python3', [checker, schedule, '--nodes', '8'], { encoding: 'utf8' });
    assert.equal(check.status, 0, check.stdout + check.stderr);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('vws serve --terms puts the document in force; vws terms show prints it and vws terms set changes it', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'vws-terms-'));
  const file = join(dir, 'terms.json');
  writeFileSync(file, JSON.stringify(TERMS));
  const server = await startServer(join(dir, 'data'), await freePort(), ['--nodes', '4', '--terms', file]);
  try {
    const env = { VWS_SERVER: server.url, VWS_TOKEN: BOOTSTRAP_TOKEN, VWS_CONFIG: join(dir, 'config.json') };
    const show = vws(['terms', 'show'], env);
    assert.equal(show.status, 0, show.stderr);
    assert.match(show.stdout, /^terms version 1, in force since /m);
    assert.match(show.stdout, /^exact\s+everyone\s+1\s+-\s+-\s+-\s+no\s+2x$/m);
    assert.match(show.stdout, /^you may ask for: best-effort, exact$/m);
    const refused = vws(['lease', 'create', '--kind', 'exact', '--start', '+1h', '--duration', '1h', '--nodes', '2', '--cpu', '1', '--memory', '512'], env);
    assert.notEqual(refused.status, 0);
    assert.match(refused.stderr, /may have at most 1 nodes, this one asks for 2.*kinds\.exact\.maxNodes/);
    const next = join(dir, 'next.json');
    writeFileSync(next, JSON.stringify({ ...TERMS, kinds: { 'best-effort': {} } }));
    const set = vws(['terms', 'set', next], env);
    assert.equal(set.status, 0, set.stderr);
    assert.match(set.stdout, /^terms version 2 in force$/m);
    assert.deepEqual(JSON.parse(vws(['terms', 'show', '--json'], env).stdout).yours, ['best-effort']);
    writeFileSync(next, JSON.stringify({ format: 'vws.terms/v1', holds: { maxTtl: 'forever' } }));
    const bad = vws(['terms', 'set', next], env);
    assert.notEqual(bad.status, 0);
    assert.match(bad.stderr, /body\.holds\.maxTtl/);
  } finally {
    await server.kill();
    rmSync(dir, { recursive: true, force: true });
  }
});
