// The optional per-VM limits of a lease body (and of each cluster role), as schema fields: bounds
// and descriptions come from the one table in src/drivers/leased-limits.ts, so the API, the agent
// protocol and the agent itself agree on what is in range.

import { Type } from '@sinclair/typebox';
import { LIMIT_BOUNDS } from '../drivers/leased-limits.ts';

const field = (b: (typeof LIMIT_BOUNDS)[keyof typeof LIMIT_BOUNDS]) =>
  Type.Optional((b.integer ? Type.Integer : Type.Number)({ minimum: b.minimum, maximum: b.maximum, description: `${b.description}; from ${b.minimum} to ${b.maximum}` }));

/** bandwidthMbps, diskMBps, diskIops: each optional, finite and bounded (JSON has no NaN or Infinity, and the bounds keep out the rest). */
export const LimitFields = {
  bandwidthMbps: field(LIMIT_BOUNDS.bandwidthMbps),
  diskMBps: field(LIMIT_BOUNDS.diskMBps),
  diskIops: field(LIMIT_BOUNDS.diskIops),
};
