import { configWith } from '../src/core/config.ts';
import type { ExperimentSpec } from '../src/sim/experiment.ts';
import { STUDY_POOL } from '../src/sim/pool.ts';
import { BLUE_30_DAYS, injection, TRACES } from './hpdc08-configs.ts';

/** The XML LWF of case (a), written by fixtures/make-blue-500-work30.ts. */
export const BLUE_500_WORK30_LWF = new URL('./fixtures/blue-500-work30.lwf', import.meta.url).pathname;
export const SDSC_BLUE_LOG = `${TRACES}archive/SDSC-BLUE-2000-4.2-cln.swf.gz`;
const NO_IMAGES = { choice: 'none', count: 1, sizeMiB: 1, seed: 1 } as const;

/** The benchmark's simulation cases; suspend/resume at 50 MB/s is the default configuration. */
export const CASES: Record<string, ExperimentSpec> = {
  'blue-500-work30-xml': { traces: [BLUE_500_WORK30_LWF], injections: [], pool: STUDY_POOL, config: configWith({}), images: NO_IMAGES },
  'blue-30days-work30': {
    traces: [BLUE_30_DAYS], injections: [injection('work_30-dur_3h-size_2medium')], pool: STUDY_POOL, config: configWith({}), images: NO_IMAGES,
  },
  'sdsc-blue-whole-log': { traces: [SDSC_BLUE_LOG], injections: [], pool: { ...STUDY_POOL, nodes: 1152 }, config: configWith({}), images: NO_IMAGES },
};

/**
 * `vws sim` arguments for 'sdsc-blue-whole-log', as a user would type them: the CLI's defaults are
 * the case's configuration (its images count and size differ, unused with no images). bench/sim.ts
 * checks that both write the same export.
 */
export const SDSC_BLUE_WHOLE_LOG_CLI = ['sim', '--trace', SDSC_BLUE_LOG, '--nodes', '1152'];
