// vws sim's cell options (--cells, --cell-sizes, --front), read into the experiment's cells
// input, and the cells block of its text output.

import { type CellsMetrics, evenCells, FRONT_POLICIES, type CellsSpec } from '../sim/cells.ts';
import { choiceOption } from './options.ts';
import { UsageError } from './usage-error.ts';

export interface SimCellsOptions {
  cells?: string; 'cell-sizes'?: string; front?: string;
}

const WHOLE = /^\s*\d+\s*$/;

/**
 * The cells of a pool of `poolNodes` nodes (`nodesGiven`: --nodes was given, so cell sizes must
 * add up to it), or undefined without --cells or --cell-sizes. The pool's size follows the sizes.
 */
export function parseCells(v: SimCellsOptions, poolNodes: number, nodesGiven: boolean): CellsSpec | undefined {
  if (v.cells === undefined && v['cell-sizes'] === undefined) {
    if (v.front !== undefined) throw new UsageError('--front routes leases among cells: add --cells K (or --cell-sizes), or leave --front out');
    return undefined;
  }
  const front = choiceOption('front', v.front, FRONT_POLICIES, 'earliest-start');
  const count = v.cells === undefined ? undefined : cellCount(v.cells, poolNodes, v['cell-sizes'] !== undefined);
  if (v['cell-sizes'] === undefined) return { sizes: evenCells(poolNodes, count!), front };
  const sizes = v['cell-sizes'].split(',').map((part, i) => {
    if (!WHOLE.test(part) || Number(part) < 1) throw new UsageError(`--cell-sizes: entry ${i + 1} ('${part}') is not a positive whole number of nodes; give the cells' sizes as N,N,... e.g. 72,36,36`);
    return Number(part);
  });
  const total = sizes.reduce((a, b) => a + b, 0);
  if (nodesGiven && total !== poolNodes) throw new UsageError(`--cell-sizes ${v['cell-sizes']} add up to ${total} nodes but --nodes is ${poolNodes}: make them agree, or leave --nodes out (the cells make the pool)`);
  if (count !== undefined && count !== sizes.length) throw new UsageError(`--cells ${count} but --cell-sizes lists ${sizes.length} cells: give one of them, or make them agree`);
  return { sizes, front };
}

function cellCount(raw: string, poolNodes: number, sized: boolean): number {
  if (!WHOLE.test(raw) || Number(raw) < 1) throw new UsageError(`--cells must be a positive whole number of cells to split the pool into, got '${raw}'`);
  const count = Number(raw);
  if (!sized && count > poolNodes) throw new UsageError(`--cells ${count} is more than the pool's ${poolNodes} nodes: each cell needs at least one node; give at most ${poolNodes} (or more --nodes)`);
  return count;
}

/** The cells block as lines of the metrics table: the front, then one line per cell. */
export function cellsTable(c: CellsMetrics): string {
  const rows: Array<[string, string]> = [
    ['cells', `${c.sizes.length} (${c.sizes.join(', ')} nodes), front ${c.front}`],
    ['too large for every cell', `${c.tooLarge} (refused, counted in rejected)`],
    ...c.perCell.map((f, i): [string, string] => [`cell ${i + 1}`,
      `${f.nodes} nodes, ${f.routed} leases, mean wait ${f.meanWait.toFixed(0)} s, mean bounded slowdown ${f.meanBoundedSlowdown.toFixed(2)}, utilization ${(f.utilization * 100).toFixed(1)}%`]),
  ];
  const width = Math.max(...rows.map(([k]) => k.length));
  return rows.map(([k, v]) => `${k.padEnd(width)}  ${v}`).join('\n');
}
