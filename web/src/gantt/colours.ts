// Leases are coloured by kind, segments shaded by what the lease does in them: one legend for both.
// The palette keeps 3:1 contrast against the page's background, and the kind is also in the
// tooltip and the accessible list, never in colour alone.

import type { LeaseKind, SegmentKind } from './model.ts';

export const KIND_COLOUR: Record<LeaseKind, string> = {
  'best-effort': '#2f6fb3',
  immediate: '#7b4fb0',
  exact: '#c0392b',
  urgent: '#d35400',
  deadline: '#1e8449',
  periodic: '#8e6d1a',
};

export const BUSY_COLOUR = '#8a8f98';

export const SEGMENT_LABEL: Record<SegmentKind, string> = {
  transfer: 'image transfer',
  boot: 'boot',
  run: 'run',
  shutdown: 'shutdown',
  suspend: 'suspend',
  resume: 'resume',
  migrate: 'migration',
};

/** How a segment is drawn over its lease's colour. */
export type Shade = 'solid' | 'light' | 'hatched' | 'striped' | 'dotted';

export const SEGMENT_SHADE: Record<SegmentKind, Shade> = {
  run: 'solid',
  boot: 'light',
  shutdown: 'light',
  transfer: 'dotted',
  suspend: 'hatched',
  resume: 'hatched',
  migrate: 'striped',
};
