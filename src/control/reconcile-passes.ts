// Reconciliation passes that many ask for at once: after a restart or a takeover, thousands of
// agents say hello within seconds, and each asks for its node to be converged. One pass runs, and
// one more, started when it ends, serves everyone who asked meanwhile.

import type { LeaseRecord } from '../core/lease-record.ts';
import type { Reconciler } from './reconciler.ts';

/** Runs `pass` for whoever asks: at most one running and one waiting, the waiting one shared. */
class SharedPass {
  private running: Promise<void> | null = null;
  private waiting: Promise<void> | null = null;

  constructor(private readonly pass: () => Promise<void>) {}

  ask(): Promise<void> {
    if (!this.running) return this.run();
    this.waiting ??= this.running.catch(() => {}).then(() => {
      this.waiting = null;
      return this.run();
    });
    return this.waiting;
  }

  private run(): Promise<void> {
    return (this.running = this.pass().finally(() => { this.running = null; }));
  }
}

export class ReconcilePasses {
  /** Nodes asked for since the last pass of nodes began. */
  private readonly nodes = new Set<string>();
  private readonly whole: SharedPass;
  private readonly ofNodes: SharedPass;

  constructor(reconciler: Reconciler, leases: () => readonly LeaseRecord[]) {
    this.whole = new SharedPass(() => reconciler.reconcileAll(leases()));
    this.ofNodes = new SharedPass(() => {
      const nodes = new Set(this.nodes);
      this.nodes.clear();
      return reconciler.reconcileNodes(leases(), nodes);
    });
  }

  /** Every lease against everything the driver runs, every agent asked again. */
  all(): Promise<void> {
    return this.whole.ask();
  }

  /**
   * The leases with a VM on the node or wanted there, against what its agent last reported. An
   * agent's hello carries its report: a whole pass for each, which asked every agent again and
   * went through every lease, kept a takeover at 2,000 agents busy for tens of seconds.
   */
  node(id: string): Promise<void> {
    this.nodes.add(id);
    return this.ofNodes.ask();
  }
}
