// Retrying what the driver refused. A refused call would otherwise wait for something else to
// reconcile its lease: a refused start leaves a lease shown running with no VM, a refused suspend
// leaves a preempted VM on a node the scheduler has given away. So a lease whose last reconcile
// failed is tried again after a capped exponential backoff on the service's clock, until it
// converges or what the scheduler wants of it changes (which starts the count again).

import { DriverError } from '../drivers/driver.ts';
import type { Clock } from './clock.ts';

export type DriverOperation = 'start' | 'stop' | 'suspend' | 'resume' | 'migrate' | 'liveMigrate';

/** A driver call that rejected, with what it was and where; the message is the driver's own. */
export class DriverCallFailed extends Error {
  /** The failure is being dealt with by a change to the lease (a failed live migration moved back): no retry. */
  settledElsewhere = false;

  constructor(readonly operation: DriverOperation, readonly vm: string, readonly node: string, cause: unknown) {
    super(cause instanceof Error ? cause.message : String(cause), { cause });
  }

  /**
   * A VM the driver will not start or resume cannot be waited for forever: after enough refusals
   * its lease fails. A VM it will not stop, suspend or move must not be left where it is, so those
   * are retried for as long as it takes.
   */
  get givesUp(): boolean {
    return this.operation === 'start' || this.operation === 'resume';
  }

  /** The driver said no retry can succeed (a permanent DriverError): a start or resume gives up at once. */
  get permanent(): boolean {
    return this.cause instanceof DriverError && this.cause.permanent;
  }
}

/** Runs one driver call, naming it in the error should it reject. */
export async function driverCall<T>(operation: DriverOperation, vm: string, node: string, call: () => Promise<T>): Promise<T> {
  try {
    return await call();
  } catch (e) {
    throw new DriverCallFailed(operation, vm, node, e);
  }
}

export interface RetryPolicy {
  /** After this many failures in a row a start or resume fails its lease; other operations raise a node event and go on. */
  maxFailures: number;
  firstDelaySeconds: number;
  maxDelaySeconds: number;
}

export const DEFAULT_RETRY: RetryPolicy = { maxFailures: 5, firstDelaySeconds: 1, maxDelaySeconds: 60 };

/** The wait before retrying after the n-th failure in a row (n from 1). */
export const backoffSeconds = (failures: number, policy: RetryPolicy): number =>
  Math.min(policy.maxDelaySeconds, policy.firstDelaySeconds * 2 ** (failures - 1));

interface Failing {
  failures: number;
  /** What the scheduler wanted of the lease's VMs when it failed: failures count only while it holds. */
  wanted: string;
  cancel: () => void;
}

/** Per lease: how many reconciles in a row failed, and the timer of the next try. */
export class Retries {
  private readonly failing = new Map<string, Failing>();

  constructor(private readonly clock: Clock, readonly policy: RetryPolicy) {}

  /** Counts a failure and arms the retry; returns the failures in a row for the same wish. */
  failed(leaseId: string, wanted: string, retry: () => void): number {
    const before = this.failing.get(leaseId);
    before?.cancel();
    const failures = before && before.wanted === wanted ? before.failures + 1 : 1;
    const cancel = this.clock.at(this.clock.now() + backoffSeconds(failures, this.policy), retry);
    this.failing.set(leaseId, { failures, wanted, cancel });
    return failures;
  }

  /** The lease converged, is gone, or was given up on: no more retries, and the count starts again. */
  clear(leaseId: string): void {
    this.failing.get(leaseId)?.cancel();
    this.failing.delete(leaseId);
  }

  clearAll(): void {
    for (const id of [...this.failing.keys()]) this.clear(id);
  }
}
