import { configWith } from '../src/core/config.ts';
import type { ExperimentSpec } from '../src/sim/experiment.ts';
import { STUDY_POOL } from '../src/sim/pool.ts';
import { BLUE_30_DAYS, injection, TRACES } from './hpdc08-configs.ts';

/** The benchmark's simulation cases. */
export const CASES: Record<string, ExperimentSpec> = {
  'blue-30days-work30': {
    traces: [BLUE_30_DAYS], injections: [injection('work_30-dur_3h-size_2medium')], pool: STUDY_POOL,
    config: configWith({}), images: { choice: 'none', count: 1, sizeMiB: 1, seed: 1 },
  },
  'sdsc-blue-whole-log': {
    traces: [`${TRACES}archive/SDSC-BLUE-2000-4.2-cln.swf.gz`], injections: [], pool: { ...STUDY_POOL, nodes: 1152 },
    config: configWith({}), images: { choice: 'none', count: 1, sizeMiB: 1, seed: 1 },
  },
};
