// scripts/ensure-test-packages.sh, which `npm test` runs first, tried with packages no machine has
// and with apt-get and id stood in for, so that nothing is installed or removed here.

import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';

const script = new URL('../../scripts/ensure-test-packages.sh', import.meta.url).pathname;
const ABSENT = 'vws-test-no-such-package';
const PRESENT = 'bash'; // essential in Debian: every machine of this kind has it

/**
 * Runs the script with `stand-ins` (name -> shell body) first on PATH, and its policy-rc.d in a
 * directory of the test's own unless `env` says where: never the machine's.
 */
function ensure(args: string[], standIns: Record<string, string> = {}, env: Record<string, string> = {}) {
  const bin = mkdtempSync(join(tmpdir(), 'vws-ensure-'));
  env = { VWS_POLICY_RC_D: join(bin, 'policy-rc.d'), ...env };
  for (const [name, body] of Object.entries(standIns)) {
    writeFileSync(join(bin, name), `#!/bin/sh\n${body}\n`);
    chmodSync(join(bin, name), 0o755);
  }
  const r = spawnSync('bash', [script, ...args], { encoding: 'utf8', env: { ...process.env, ...env, PATH: `${bin}:${process.env.PATH}` } });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr, bin };
}

test('--dry-run names what is missing and the apt-get commands, and changes nothing', () => {
  const r = ensure(['--dry-run', ABSENT, PRESENT]);
  assert.equal(r.status, 0, r.stderr);
  assert.equal(r.stdout, `ensure-test-packages: missing: ${ABSENT}\nwould run: apt-get update\nwould run: apt-get install -y ${ABSENT}\n`);
});

test('with everything installed it runs no apt-get', () => {
  const r = ensure([PRESENT], { 'apt-get': 'echo "apt-get must not run" >&2; exit 9' });
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, /^ensure-test-packages: all 1 Debian packages the tests need are installed\n$/);
});

test('as root it updates apt\'s lists, then installs only what is missing', () => {
  const log = join(mkdtempSync(join(tmpdir(), 'vws-ensure-log-')), 'apt-get.log');
  const r = ensure([ABSENT, PRESENT], { 'apt-get': `echo "$DEBIAN_FRONTEND $*" >> ${log}`, id: 'echo 0' });
  assert.equal(r.status, 0, r.stderr);
  assert.equal(readFileSync(log, 'utf8'), `noninteractive update\nnoninteractive install -y ${ABSENT}\n`);
});

test('while it installs, a policy-rc.d refuses every service start; after, the machine\'s own is back, or none', () => {
  for (const before of [null, '#!/bin/sh\n# the machine\'s own\nexit 0\n']) {
    for (const aptFails of [false, true]) {
      const dir = mkdtempSync(join(tmpdir(), 'vws-ensure-policy-'));
      const policy = join(dir, 'policy-rc.d');
      if (before !== null) writeFileSync(policy, before, { mode: 0o755 });
      const log = join(dir, 'apt-get.log');
      // What Debian's invoke-rc.d does before a postinst's start: ask the policy, 101 meaning no.
      const aptGet = `if [ "$1" = install ]; then "${policy}" munge start; echo "policy says $?" >> ${log}; ${aptFails ? 'exit 100' : 'true'}; fi`;
      const r = ensure([ABSENT], { 'apt-get': aptGet, id: 'echo 0' }, { VWS_POLICY_RC_D: policy });
      assert.equal(r.status, aptFails ? 100 : 0, r.stderr);
      assert.equal(readFileSync(log, 'utf8'), 'policy says 101\n');
      assert.equal(existsSync(policy) ? readFileSync(policy, 'utf8') : null, before, 'the policy-rc.d the machine had (or none) is back');
      assert.deepEqual(readdirSync(dir).sort(), ['apt-get.log', ...(before === null ? [] : ['policy-rc.d'])], 'no saved or new copy left beside it');
    }
  }
});

test('not as root it says what to run, installs nothing, and fails', () => {
  const r = ensure([ABSENT, PRESENT], { 'apt-get': 'echo "apt-get must not run" >&2; exit 9', id: 'echo 1000' });
  assert.equal(r.status, 1);
  assert.equal(r.stdout, '');
  assert.match(r.stderr, new RegExp(`not installed: ${ABSENT}\nthat needs root; run:\n  sudo apt-get update\n  sudo apt-get install -y ${ABSENT}\n`));
});

test('the default list is what the tests use, and this machine has it', () => {
  const r = ensure(['--dry-run']);
  assert.equal(r.status, 0, r.stderr);
  // Counted from the script's own list, so that a package added to it needs no change here.
  const listed = /\nPACKAGES=\(\n([\s\S]*?)\n\)\n/.exec(readFileSync(script, 'utf8'))![1].split('\n').filter((l) => /^\s+[a-z0-9]/.test(l)).length;
  assert.ok(listed >= 8, `the script lists ${listed} packages`);
  assert.match(r.stdout, new RegExp(`^ensure-test-packages: all ${listed} Debian packages the tests need are installed\n$`), 'npm test ran the script before this test, and installed them');
});
