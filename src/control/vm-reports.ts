// What the VMs tell the service by themselves, made into inputs as an owner's or an administrator's
// action would be (so a replay agrees): a VM that ended, and a live migration that failed.

import { hasEnded } from '../core/lease-record.ts';
import type { Backends } from '../core/backends.ts';
import type { Clock } from './clock.ts';
import type { Input, NodeIndex } from './inputs.ts';

/** What of the control loop these need (control-loop.ts passes itself). */
export interface ControlLoop {
  inBackground(fn: () => Promise<unknown>): void;
  syncTo(now: number): Promise<number>;
  record(input: Input, now: number): Promise<unknown>;
  flush(): Promise<void>;
  readonly clock: Clock;
  readonly scheduler: Backends;
  readonly nodes: NodeIndex;
  readonly isClosed: boolean;
}

/**
 * A live migration failed and the VM runs on at its source: the lease is moved back there, as an
 * administrator's migration would move it (the same input, so a replay agrees), once the core
 * takes it (not at the instant the run it leaves began), and if the source still has room.
 * Otherwise the lease stays planned where it was going, and the reconciler tries again.
 */
export function moveBack(loop: ControlLoop, leaseId: string, vm: { index: number; from: string }): void {
  loop.inBackground(async () => {
    const now = await loop.syncTo(loop.clock.now());
    const run = loop.scheduler.lease(leaseId)?.chain.find((s) => s.kind === 'run' && s.active);
    const from = loop.nodes.of(vm.from);
    if (!run || from === undefined || run.nodes[vm.index] === from) return;
    if (run.start >= now) {
      loop.clock.at(run.start + 1, () => {
        if (!loop.isClosed) moveBack(loop, leaseId, vm);
      });
      return;
    }
    const to = run.nodes.map((n, k) => (k === vm.index ? from : n));
    if (loop.scheduler.liveMigrationRefusal(leaseId, to, now)) return;
    await loop.record({ type: 'migrate', id: leaseId, to: to.map((n) => loop.nodes.ids[n]) }, now);
    await loop.flush();
  });
}

/** A lease's VM stopped or failed by itself: its work is done if it was running, else it failed. */
export function reportVmEnd(loop: ControlLoop, leaseId: string, detail: { failed: boolean; message: string }): void {
  loop.inBackground(async () => {
    const now = await loop.syncTo(loop.clock.now());
    const lease = loop.scheduler.lease(leaseId);
    if (!lease || hasEnded(lease)) return;
    const running = lease.chain.some((s) => s.active && s.kind === 'run');
    if (running && !detail.failed) await loop.record({ type: 'finish', id: leaseId }, now);
    else await loop.record({ type: 'fail', id: leaseId, detail: detail.message }, now);
    await loop.flush();
  });
}
