// Prometheus text format: leases by status, the queue, scheduling latency, node utilization.

import type { LeaseService } from '../control/lease-service.ts';
import type { LeaseStatus } from '../store/store.ts';

const BUCKETS = [0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1, 2, 5];

export class Metrics {
  private readonly counts = new Array<number>(BUCKETS.length + 1).fill(0);
  private sum = 0;
  private total = 0;

  /** Records how long one scheduling decision (create, quote, hold) took. */
  observe(seconds: number): void {
    const i = BUCKETS.findIndex((b) => seconds <= b);
    this.counts[i < 0 ? BUCKETS.length : i]++;
    this.sum += seconds;
    this.total++;
  }

  render(byStatus: Partial<Record<LeaseStatus, number>>, service: LeaseService): string {
    const lines: string[] = [];
    lines.push('# HELP vws_leases Leases by status.', '# TYPE vws_leases gauge');
    for (const [status, n] of Object.entries(byStatus)) lines.push(`vws_leases{status="${status}"} ${n}`);
    lines.push('# HELP vws_queue_length Best-effort leases waiting.', '# TYPE vws_queue_length gauge', `vws_queue_length ${service.scheduler.queueLength}`);
    lines.push('# HELP vws_scheduling_latency_seconds Time to decide a create, quote or hold.', '# TYPE vws_scheduling_latency_seconds histogram');
    let cumulative = 0;
    BUCKETS.forEach((b, i) => {
      cumulative += this.counts[i];
      lines.push(`vws_scheduling_latency_seconds_bucket{le="${b}"} ${cumulative}`);
    });
    lines.push(`vws_scheduling_latency_seconds_bucket{le="+Inf"} ${this.total}`, `vws_scheduling_latency_seconds_sum ${this.sum}`, `vws_scheduling_latency_seconds_count ${this.total}`);
    lines.push('# HELP vws_node_utilization Fraction of each node\'s CPU held by leases now.', '# TYPE vws_node_utilization gauge');
    for (const [node, used] of service.pool.nodeUtilization()) lines.push(`vws_node_utilization{node="${node}"} ${used}`);
    return `${lines.join('\n')}\n`;
  }
}
