// Named presets of the scheduling policy (issue 22, item 3): `vws sim --preset NAME` and
// `scheduling.preset` in a site's terms select every option of the policy, an option named beside
// the preset still wins, no preset leaves the HPDC'08 study's rules, and a service started with
// such terms runs under the preset's options.

import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { parseSimArgs } from '../../src/cli/sim-command.ts';
import { configWith, DEFAULT_CONFIG } from '../../src/core/config.ts';
import { PRESET_NAMES, PRESETS, presetOptions } from '../../src/core/presets.ts';
import { readTerms } from '../../src/core/terms-document.ts';
import { configOfTerms } from '../../src/core/terms.ts';
import { bin, root } from '../support/vws-bin.ts';
import { BOOTSTRAP_TOKEN, freePort, startServer } from './client/real-server.ts';
import { SMALL_TRACE, simRefusal } from '../support/sim-refusal.ts';

const trace = SMALL_TRACE;

test('every preset changes something, and hpdc08 is the defaults themselves', () => {
  assert.deepEqual(PRESETS.hpdc08, {});
  for (const name of PRESET_NAMES.filter((n) => n !== 'hpdc08')) {
    const changed = Object.entries(presetOptions(name)).filter(([k, v]) => DEFAULT_CONFIG[k as keyof typeof DEFAULT_CONFIG] !== v);
    assert.ok(changed.length > 0, `${name} sets only the defaults`);
  }
  assert.throws(() => presetOptions('toString'), /no preset 'toString': choose one of hpdc08, beyond-hpdc08/);
});

test('vws sim --preset selects the preset\'s options; an option beside it wins; none leaves the study\'s rules', () => {
  assert.deepEqual(parseSimArgs({ trace }).spec.config, DEFAULT_CONFIG);
  assert.deepEqual(parseSimArgs({ trace, preset: 'hpdc08' }).spec.config, DEFAULT_CONFIG);
  assert.deepEqual(parseSimArgs({ trace, preset: 'beyond-hpdc08' }).spec.config, configWith(presetOptions('beyond-hpdc08')));
  assert.equal(parseSimArgs({ trace, preset: 'beyond-hpdc08', 'suspended-order': 'arrival' }).spec.config.suspendedQueueOrder, 'arrival');
  assert.equal(simRefusal({ preset: 'beyond' }), '--preset beyond: there is no such preset; choose one of hpdc08, beyond-hpdc08 (docs/beyond-hpdc08.md)');
});

test('scheduling.preset in the terms sets the preset\'s options, the document\'s own keys win, an unknown name names the presets', () => {
  const read = (scheduling: unknown, preemption?: unknown) => readTerms({ format: 'vws.terms/v1', scheduling, ...(preemption ? { preemption } : {}) });
  const r = read({ preset: 'beyond-hpdc08' });
  assert.ok(r.ok);
  assert.deepEqual(configOfTerms(r.terms), configWith(presetOptions('beyond-hpdc08')));
  const own = read({ preset: 'beyond-hpdc08', suspendedQueueOrder: 'arrival' });
  assert.ok(own.ok);
  assert.equal(own.terms.scheduling.suspendedQueueOrder, 'arrival');
  const bad = read({ preset: 'fastest' });
  assert.ok(!bad.ok);
  assert.equal(bad.path, 'terms.scheduling.preset');
  assert.match(bad.message, /hpdc08, beyond-hpdc08/);
});

test('vws sim --preset with --terms is refused: the preset then belongs in the terms', () => {
  const dir = mkdtempSync(join(tmpdir(), 'vws-preset-'));
  try {
    const file = join(dir, 'terms.json');
    writeFileSync(file, JSON.stringify({ format: 'vws.terms/v1' }));
    assert.match(simRefusal({ preset: 'beyond-hpdc08', terms: file }), /^--preset and --terms: the terms document sets the scheduling/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a service started with terms that name the preset runs under its options', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'vws-preset-'));
  const file = join(dir, 'terms.json');
  writeFileSync(file, JSON.stringify({ format: 'vws.terms/v1', scheduling: { preset: 'beyond-hpdc08' } }));
  const server = await startServer(join(dir, 'data'), await freePort(), ['--nodes', '4', '--terms', file]);
  try {
    const env = { ...process.env, VWS_SERVER: server.url, VWS_TOKEN: BOOTSTRAP_TOKEN, VWS_CONFIG: join(dir, 'config.json') };
    const show = spawnSync(process.execPath, [bin, 'terms', 'show', '--json'], { encoding: 'utf8', cwd: root, env });
    assert.equal(show.status, 0, show.stderr);
    const published = JSON.parse(show.stdout);
    for (const [k, v] of Object.entries(presetOptions('beyond-hpdc08'))) assert.equal(published.terms.scheduling[k], v, `${k} in ${show.stdout}`);
  } finally {
    await server.kill();
    rmSync(dir, { recursive: true, force: true });
  }
});
