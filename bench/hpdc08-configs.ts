import { configWith } from '../src/core/config.ts';
import type { ExperimentSpec } from '../src/sim/experiment.ts';
import type { ImageChoice } from '../src/sim/image-assignment.ts';
import { STUDY_POOL } from '../src/sim/pool.ts';

export const TRACES = new URL('../../shared/traces/', import.meta.url).pathname;
export const BLUE_30_DAYS = `${TRACES}blue/30days.swf`;
export const injection = (name: string): string => `${TRACES}blue/injected-30days/${name}.lwf`;

export type StudyConfig = 'NOVM-NOSR' | 'NOVM-SR' | 'VM-PREDEPLOY' | 'VM-MULT' | 'VM-REUSE-UNIFORM' | 'VM-REUSE-SKEWED';
export const STUDY_CONFIGS: readonly StudyConfig[] = ['NOVM-NOSR', 'NOVM-SR', 'VM-PREDEPLOY', 'VM-MULT', 'VM-REUSE-UNIFORM', 'VM-REUSE-SKEWED'];

/** Image size in the study (MB). */
const IMAGE_MB = 4096;
const IMAGE_CACHE_MB = 20_000;
const IMAGE_SEED = 2008;

/** The study's configurations as the paper states them (see ../shared/traces/README.md), at network bandwidth B MB/s. */
export function studySpec(config: StudyConfig, bandwidthMBps: number, injections: readonly string[]): ExperimentSpec {
  const vm = config.startsWith('VM-');
  const choice: ImageChoice = !vm ? 'none' : config === 'VM-PREDEPLOY' ? 'single' : config === 'VM-REUSE-SKEWED' ? 'skewed' : 'uniform';
  return {
    traces: [BLUE_30_DAYS],
    injections,
    pool: STUDY_POOL,
    images: { choice, count: 37, sizeMiB: IMAGE_MB, seed: IMAGE_SEED },
    config: configWith({
      backfill: 'easy',
      preemption: config === 'NOVM-NOSR' ? 'requeue' : 'suspend',
      suspendRateMBps: 50,
      resumeRateMBps: 50,
      migration: true,
      migrateBandwidthMBps: bandwidthMBps,
      images: vm && config !== 'VM-PREDEPLOY' ? 'transfer' : 'predeployed',
      imageBandwidthMBps: bandwidthMBps,
      imageCacheMiB: config === 'VM-MULT' ? 0 : IMAGE_CACHE_MB,
      runtimeOverheadPercent: vm ? 5 : 0,
      bootSeconds: vm ? 10 : 0,
      shutdownSeconds: vm ? 10 : 0,
      suspendThresholdFactor: 1,
    }),
  };
}

/** Bandwidth only matters where something moves: migrations and image transfers. */
export function dependsOnBandwidth(config: StudyConfig): boolean {
  return config !== 'NOVM-NOSR';
}

export const BASELINE_PUBLISHED = 2_674_265;

type Row = Record<StudyConfig, [number, number, number]>;

/** HPDC 2008 Table 1, workloads work_{10,20,30}-dur_3h-size_2medium. */
export const PUBLISHED: { growthPercent: Row; meanWaitKs: Row; meanBoundedSlowdown: Row } = {
  growthPercent: {
    'NOVM-NOSR': [3.91, 8.66, 23.93],
    'NOVM-SR': [-0.76, 0.10, 4.14],
    'VM-PREDEPLOY': [-0.27, 1.58, 7.19],
    'VM-MULT': [0.60, 3.95, 12.21],
    'VM-REUSE-UNIFORM': [0.03, 3.15, 10.74],
    'VM-REUSE-SKEWED': [-0.36, 2.48, 10.43],
  },
  meanWaitKs: {
    'NOVM-NOSR': [16.91, 23.91, 68.95],
    'NOVM-SR': [6.18, 8.14, 14.84],
    'VM-PREDEPLOY': [8.05, 12.17, 22.89],
    'VM-MULT': [15.69, 34.56, 78.83],
    'VM-REUSE-UNIFORM': [12.31, 25.68, 62.52],
    'VM-REUSE-SKEWED': [10.69, 22.85, 58.44],
  },
  meanBoundedSlowdown: {
    'NOVM-NOSR': [60.48, 71.80, 296.74],
    'NOVM-SR': [31.05, 49.56, 134.91],
    'VM-PREDEPLOY': [39.60, 62.45, 133.59],
    'VM-MULT': [91.94, 203.39, 441.10],
    'VM-REUSE-UNIFORM': [62.24, 140.42, 338.60],
    'VM-REUSE-SKEWED': [50.46, 115.99, 309.67],
  },
};

export const TABLE_LOADS = [10, 20, 30] as const;
export const tableWorkload = (load: number): string => `work_${load}-dur_3h-size_2medium`;
