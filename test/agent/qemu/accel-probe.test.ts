// The accelerator probe boots a one-instruction guest: under TCG it must always report back
// (else the probe itself is broken), and the agent's KVM verdict must be exactly whether the same
// guest reported back under KVM; a host whose /dev/kvm opens but whose vCPU hangs gets TCG.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { accelChoice, choiceFromProbe, PROBE_EXIT_STATUS, probeGuest } from '../../../src/agent/qemu/accel-probe.ts';
import { kvmUsable } from '../../../src/agent/qemu/qemu-argv.ts';

/** Runs `fn` with VWS_ACCEL as given (undefined: unset), restoring the suite's own afterwards. */
function withAccelEnv<T>(value: string | undefined, fn: () => T): T {
  const saved = process.env.VWS_ACCEL;
  if (value === undefined) delete process.env.VWS_ACCEL;
  else process.env.VWS_ACCEL = value;
  try {
    return fn();
  } finally {
    if (saved === undefined) delete process.env.VWS_ACCEL;
    else process.env.VWS_ACCEL = saved;
  }
}

test('the probe guest runs under TCG and exits through isa-debug-exit', () => {
  const probe = probeGuest('tcg');
  assert.equal(probe.status, PROBE_EXIT_STATUS, probe.detail);
  assert.equal(PROBE_EXIT_STATUS, 99);
});

// Two probes are never compared: on a loaded host one may report back and the next time out.
test('KVM is chosen exactly when the probe guest reports back under KVM, with the reason', () => {
  const ran = { status: PROBE_EXIT_STATUS, detail: 'a probe guest ran under kvm' };
  const hung = { status: null, detail: 'a probe guest under kvm ran no code in 15000 ms (the vCPU hangs)' };
  const failed = { status: 1, detail: 'a probe guest under kvm ended with status 1: Could not access KVM kernel module' };
  assert.deepEqual(choiceFromProbe(ran), { kvm: true, reason: ran.detail });
  assert.deepEqual(choiceFromProbe(hung), { kvm: false, reason: hung.detail });
  assert.deepEqual(choiceFromProbe(failed), { kvm: false, reason: failed.detail });
});

test("the agent's own probe of this host gives one verdict, used by every VM, with the reason", () => {
  const choice = withAccelEnv(undefined, () => accelChoice());
  assert.equal(withAccelEnv(undefined, () => kvmUsable()), choice.kvm, choice.reason);
  assert.match(choice.reason, choice.kvm ? /ran under kvm/ : /kvm|\/dev\/kvm/);
});

test('VWS_ACCEL overrides the probe and says so', () => {
  assert.deepEqual(withAccelEnv('tcg', () => accelChoice()), { kvm: false, reason: 'VWS_ACCEL=tcg' });
  assert.deepEqual(withAccelEnv('kvm', () => accelChoice()), { kvm: true, reason: 'VWS_ACCEL=kvm' });
  assert.equal(withAccelEnv('tcg', () => kvmUsable()), false);
});
