// Looking up a VM an agent holds, for a call about it: every host answers an unknown VM, or one in
// the wrong state for the call, with the same refusal.

import { DriverError, type VmState, type VmStatus } from '../drivers/driver.ts';

export function heldVm<H extends { status: VmStatus }>(vms: ReadonlyMap<string, H>, id: string, node: string): H {
  const held = vms.get(id);
  if (!held) throw new DriverError(id, `node '${node}' has no such VM`);
  return held;
}

/** The VM, which must be in `state` to be `toBe` (suspended, resumed, ...). */
export function heldVmIn<H extends { status: VmStatus }>(vms: ReadonlyMap<string, H>, id: string, node: string, state: VmState, toBe: string): H {
  const held = heldVm(vms, id, node);
  if (held.status.state !== state) throw new DriverError(id, `is ${held.status.state}: only a ${state} VM can be ${toBe}`);
  return held;
}
