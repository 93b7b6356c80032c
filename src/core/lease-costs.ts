import type { SchedulerConfig } from './config.ts';
import { secondsToMove } from './costs.ts';
import type { LeaseRequest } from './types.ts';

/** The overheads the scheduler plans for one lease, in seconds, under a configuration. */
export class LeaseCosts {
  constructor(private readonly config: SchedulerConfig) {}

  needsTransfer(req: LeaseRequest): boolean {
    return this.config.images === 'transfer' && req.image !== undefined && req.image.sizeMiB > 0;
  }

  transferSeconds(req: LeaseRequest): number {
    return secondsToMove(req.image?.sizeMiB ?? 0, this.config.imageBandwidthMBps);
  }

  suspendSeconds(req: LeaseRequest): number {
    return secondsToMove(req.perNode.memoryMiB, this.config.suspendRateMBps);
  }

  resumeSeconds(req: LeaseRequest): number {
    return secondsToMove(req.perNode.memoryMiB, this.config.resumeRateMBps);
  }

  /** A cold migration moves the saved memory and the disk image. */
  migrateSeconds(req: LeaseRequest): number {
    return secondsToMove(req.perNode.memoryMiB + (req.image?.sizeMiB ?? 0), this.config.migrateBandwidthMBps);
  }

  /** The shortest run worth starting when the run may be cut short: its overheads, times (1 + factor). */
  suspendThreshold(req: LeaseRequest, resuming: boolean): number {
    const overhead = this.suspendSeconds(req) + (resuming ? this.resumeSeconds(req) : 0);
    return Math.max(1, overhead * (1 + this.config.suspendThresholdFactor));
  }

  /** Boot, run and shutdown of a fresh lease whose run takes `work` seconds. */
  wholeChain(work: number): number {
    return this.config.bootSeconds + work + this.config.shutdownSeconds;
  }
}
