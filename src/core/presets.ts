// Named sets of scheduling options (issue 22): `vws sim --preset NAME`, and `scheduling.preset` in
// a site's terms. The defaults of SchedulerConfig stay the HPDC'08 study's, so that its table is
// reproduced with no preset at all.
import type { SchedulerConfig } from './config.ts';

/** The options a preset may set: how leases are ordered, placed and made to give way, never the site's costs. */
export type PolicyOptions = Pick<SchedulerConfig, 'backfill' | 'suspendedQueueOrder' | 'suspendThresholdFactor' | 'preemptionPolicy'>;

export const PRESETS: Readonly<Record<string, Readonly<Partial<PolicyOptions>>>> = Object.freeze({
  /** The study's rules as its paper states them: the defaults, named. */
  hpdc08: Object.freeze({}),
  /** What loses least to advance reservations (docs/beyond-hpdc08.md). */
  'beyond-hpdc08': Object.freeze({ suspendedQueueOrder: 'suspension' }),
});

export const PRESET_NAMES = Object.keys(PRESETS);

/** The preset's options, or a RangeError naming the presets there are. */
export function presetOptions(name: string): Readonly<Partial<PolicyOptions>> {
  if (!Object.hasOwn(PRESETS, name)) throw new RangeError(`no preset '${name}': choose one of ${PRESET_NAMES.join(', ')}`);
  return PRESETS[name];
}
