// Which open nodes are big enough for a shape: asked of every request, so the last answer is kept
// while the pool (its nodes, and which are open) stays the same.

import { EPS } from './calendar.ts';
import { NodeBits } from './node-bits.ts';
import type { NodeSpec } from './types.ts';

export class OpenFits {
  /** Bumped when a node is added, closed or opened. */
  private membership = 0;
  private count = { membership: -1, cpu: 0, mem: 0, count: 0 };
  private fitting = { membership: -1, cpu: 0, mem: 0, nodes: new NodeBits() };

  constructor(
    private readonly specs: readonly NodeSpec[],
    private readonly closed: readonly boolean[],
  ) {}

  /** The pool changed: a node was added, closed or opened. */
  changed(): void {
    this.membership++;
  }

  /** Whether node n is open and big enough for cpu/mem. */
  fits(n: number, cpu: number, mem: number): boolean {
    const spec = this.specs[n];
    return !this.closed[n] && cpu <= spec.cpu + EPS && mem <= spec.memoryMiB + EPS;
  }

  /** How many open nodes could hold cpu/mem at all. */
  countThatFit(cpu: number, mem: number): number {
    const last = this.count;
    if (last.membership === this.membership && last.cpu === cpu && last.mem === mem) return last.count;
    let count = 0;
    for (let n = 0; n < this.specs.length; n++) if (!this.closed[n] && this.specs[n].cpu >= cpu && this.specs[n].memoryMiB >= mem) count++;
    this.count = { membership: this.membership, cpu, mem, count };
    return count;
  }

  /** The open nodes big enough for cpu/mem. */
  nodesThatFit(cpu: number, mem: number): NodeBits {
    const last = this.fitting;
    if (last.membership === this.membership && last.cpu === cpu && last.mem === mem) return last.nodes;
    const nodes = new NodeBits();
    for (let n = 0; n < this.specs.length; n++) if (this.fits(n, cpu, mem)) nodes.add(n);
    this.fitting = { membership: this.membership, cpu, mem, nodes };
    return nodes;
  }
}
