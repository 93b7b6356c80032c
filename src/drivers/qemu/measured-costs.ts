// From what the agents measure to the figures the scheduler plans with, and when those are worth
// logging again.

import type { CostFigures } from '../../core/cost-figures.ts';
import type { OperationEstimates } from './operation-estimates.ts';

export type Slowest = ReturnType<OperationEstimates['slowest']>;

/**
 * How much slower than the slowest node's running estimate the scheduler plans an operation.
 * The scheduler has one figure per operation for the whole pool, and a plan must hold wherever a
 * lease lands: hence the slowest node. And an estimate is an average that single operations
 * scatter around: a suspension that takes longer than planned ends after the reservation it
 * makes room for was due to start (a promise broken), while one planned too long only leaves its
 * nodes idle for the difference. A margin costs little and keeps the promise.
 */
export const SAFETY_FACTOR = 1.25;

/** A figure that moves less than this (relative) since it was last logged is not logged again. */
export const CHANGE_TO_LOG = 0.1;

const KEYS = ['suspendMiBps', 'resumeMiBps', 'migrateMiBps', 'bootSeconds'] as const;

/**
 * The figures to plan with. A migration is measured as memory over the whole transfer, which
 * also carried the disk's overlay; the scheduler moves memory and image at that rate, which errs
 * long, the safe way. Boots are whole seconds in the core, rounded up.
 */
export function planningFigures(slowest: Slowest): CostFigures {
  const rate = (v: number | null): number | undefined => (v === null ? undefined : v / SAFETY_FACTOR);
  const figures: CostFigures = {
    suspendRateMBps: rate(slowest.suspendMiBps),
    resumeRateMBps: rate(slowest.resumeMiBps),
    migrateBandwidthMBps: rate(slowest.migrateMiBps),
    bootSeconds: slowest.bootSeconds === null ? undefined : Math.ceil(slowest.bootSeconds * SAFETY_FACTOR),
  };
  return Object.fromEntries(Object.entries(figures).filter(([, v]) => v !== undefined)) as CostFigures;
}

/** Whether the slowest figures moved enough since those last logged (null: none yet) to log them again. */
export function worthLogging(last: Slowest | null, now: Slowest): boolean {
  return KEYS.some((k) => {
    const before = last?.[k] ?? null;
    const after = now[k];
    if (after === null) return false;
    return before === null || Math.abs(after - before) > CHANGE_TO_LOG * before;
  });
}
