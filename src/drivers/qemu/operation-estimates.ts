// Running estimates of how long VM operations take on each node, from what the agents measure:
// the scheduler plans suspensions, resumptions, migrations and boots with them. Suspend, resume
// and migration move memory, so they are kept as rates (MiB/s); a boot as seconds.

import type { NodeEstimate } from '../driver.ts';
import type { Timing } from './protocol.ts';

const WEIGHT = 0.3;

const blend = (old: number | null, sample: number): number => (old === null ? sample : old + WEIGHT * (sample - old));

export class OperationEstimates {
  private readonly nodes = new Map<string, NodeEstimate>();

  note(node: string, t: Timing): void {
    if (!(t.ms > 0) || !(t.memoryMiB > 0)) return;
    const e = this.nodes.get(node) ?? { suspendMiBps: null, resumeMiBps: null, migrateMiBps: null, bootSeconds: null, samples: 0 };
    const rate = t.memoryMiB / (t.ms / 1000);
    if (t.op === 'suspend') e.suspendMiBps = blend(e.suspendMiBps, rate);
    else if (t.op === 'resume') e.resumeMiBps = blend(e.resumeMiBps, rate);
    else if (t.op === 'migrate' || t.op === 'live-migrate') e.migrateMiBps = blend(e.migrateMiBps, rate);
    else if (t.op === 'boot') e.bootSeconds = blend(e.bootSeconds, t.ms / 1000);
    e.samples++;
    this.nodes.set(node, e);
  }

  of(node: string): NodeEstimate | undefined {
    return this.nodes.get(node);
  }

  /**
   * What the scheduler should plan with: the slowest node's figures, so that a plan holds
   * whichever node a lease lands on. Null where no node has measured the operation yet.
   */
  slowest(): { suspendMiBps: number | null; resumeMiBps: number | null; migrateMiBps: number | null; bootSeconds: number | null } {
    const all = [...this.nodes.values()];
    const least = (pick: (e: NodeEstimate) => number | null): number | null => {
      const v = all.map(pick).filter((x): x is number => x !== null);
      return v.length ? Math.min(...v) : null;
    };
    const most = (pick: (e: NodeEstimate) => number | null): number | null => {
      const v = all.map(pick).filter((x): x is number => x !== null);
      return v.length ? Math.max(...v) : null;
    };
    return { suspendMiBps: least((e) => e.suspendMiBps), resumeMiBps: least((e) => e.resumeMiBps), migrateMiBps: least((e) => e.migrateMiBps), bootSeconds: most((e) => e.bootSeconds) };
  }
}
