// The import rules of src/ (.dependency-cruiser.cjs: layers core < sim,store,seed < drivers,agent <
// control < broker < api,ec2 < cli; a pure core; no circles; driver folders apart) hold, and they are not a
// test that cannot fail: the same rules run on a deliberately broken fixture tree report it.

import assert from 'node:assert/strict';
import { join } from 'node:path';
import { test } from 'node:test';
import { cruise, format, type ICruiseResult } from 'dependency-cruiser';
import extractDepcruiseOptions from 'dependency-cruiser/config-utl/extract-depcruise-options';
import extractTSConfig from 'dependency-cruiser/config-utl/extract-ts-config';

const ROOT = new URL('..', import.meta.url).pathname;

/** Cruises `src` under baseDir with the project's rules. */
async function cruiseSrc(baseDir: string): Promise<ICruiseResult> {
  const options = await extractDepcruiseOptions(join(ROOT, '.dependency-cruiser.cjs'));
  const tsConfig = extractTSConfig(join(ROOT, 'tsconfig.json'));
  const out = await cruise(['src'], { ...options, baseDir }, {}, { tsConfig });
  return out.output as ICruiseResult;
}

const brief = (r: ICruiseResult) => r.summary.violations.map((v) => `${v.rule.name}: ${v.from} -> ${v.to}`);

test('src/ breaks no import rule', async () => {
  const result = await cruiseSrc(ROOT);
  assert.ok(result.summary.totalCruised > 100, `cruised ${result.summary.totalCruised} modules: the rules saw the tree`);
  assert.deepEqual(brief(result), [], (await format(result, { outputType: 'err-long' })).output as string);
});

test('the rules report a core module that does I/O and a lower layer importing a higher one, saying why', async () => {
  const result = await cruiseSrc(join(ROOT, 'test/fixtures/architecture'));
  assert.deepEqual(brief(result).sort(), [
    'core-no-io: src/core/clock.ts -> fs',
    'layer-store: src/store/store.ts -> src/control/service.ts',
  ]);
  const message = (await format(result, { outputType: 'err-long' })).output as string;
  const flat = message.replace(/\s+/g, ' ');
  assert.match(flat, /error core-no-io: src\/core\/clock\.ts → fs\s+src\/core is pure and deterministic: it imports no node: module/);
  assert.match(flat, /error layer-store: src\/store\/store\.ts → src\/control\/service\.ts\s+src\/store is below src\/drivers, src\/agent, src\/control, src\/broker, src\/api, src\/ec2, src\/cli \(layers: core < sim,store,seed < drivers,agent < control < broker < api,ec2 < cli\)/);
  if (process.env.SHOW_ARCHITECTURE_MESSAGE) process.stdout.write(message);
});
