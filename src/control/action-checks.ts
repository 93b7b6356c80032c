// The core's refusals of an owner's or an administrator's action, in the service's codes. The
// service asks the core (which changes nothing when it answers) before it logs the action: a
// logged input the core would refuse must never reach the input log, where a replay would stop on it.

import type { Refusal as CoreRefusal, RefusalCode as CoreCode } from '../core/types.ts';
import { refuse, type Refusal, type RefusalCode } from './refusal.ts';

/** What an owner does to a running lease: stop it (the core's finish), suspend it, or resume it. */
export type OwnerAction = 'stop' | 'suspend' | 'resume';

const FROM_CORE: Record<CoreCode, RefusalCode> = {
  'not-found': 'not-found',
  duplicate: 'already-exists',
  'wrong-state': 'wrong-state',
  // What the caller asked for is wrong as stated (a kind that cannot be held, nodes named twice).
  unsupported: 'invalid-request',
  invalid: 'invalid-request',
  policy: 'policy',
  'node-unavailable': 'node-unavailable',
  'insufficient-capacity': 'insufficient-capacity',
  'exceeds-pool': 'exceeds-pool',
  'too-late': 'too-late',
};

/** A core refusal as the service answers it; `path` names the request's field at fault for invalid input. */
export function fromCore(r: CoreRefusal | null, path?: string): Refusal | null {
  if (r === null) return null;
  const code = FROM_CORE[r.code];
  return refuse(code, r.message, code === 'invalid-request' && path ? { path } : {});
}
