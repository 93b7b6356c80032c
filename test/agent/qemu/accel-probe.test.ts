// The accelerator probe boots a one-instruction guest: under TCG it must always report back
// (else the probe itself is broken), and the agent's KVM verdict must be exactly whether the same
// guest reported back under KVM; a host whose /dev/kvm opens but whose vCPU hangs gets TCG.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { accelChoice, PROBE_EXIT_STATUS, probeGuest } from '../../../src/agent/qemu/accel-probe.ts';
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

test('KVM is chosen exactly when the probe guest runs under KVM, with the reason', () => {
  const kvmProbe = probeGuest('kvm');
  const choice = withAccelEnv(undefined, () => accelChoice());
  assert.equal(withAccelEnv(undefined, () => kvmUsable()), kvmProbe.status === PROBE_EXIT_STATUS, `probe: ${kvmProbe.detail}; choice: ${choice.reason}`);
  assert.equal(choice.kvm, kvmProbe.status === PROBE_EXIT_STATUS);
  assert.ok(choice.reason.length > 0);
});

test('VWS_ACCEL overrides the probe and says so', () => {
  assert.deepEqual(withAccelEnv('tcg', () => accelChoice()), { kvm: false, reason: 'VWS_ACCEL=tcg' });
  assert.deepEqual(withAccelEnv('kvm', () => accelChoice()), { kvm: true, reason: 'VWS_ACCEL=kvm' });
  assert.equal(withAccelEnv('tcg', () => kvmUsable()), false);
});
