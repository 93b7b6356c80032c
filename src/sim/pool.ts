import type { NodeSpec } from '../core/types.ts';

export interface PoolShape {
  nodes: number;
  cpu: number;
  memoryMiB: number;
  diskMiB: number;
}

export const STUDY_POOL: PoolShape = { nodes: 144, cpu: 1, memoryMiB: 1024, diskMiB: 40_000 };

/** n identical nodes named n1..nN, as the schedule export's header lists them. */
export function uniformPool(shape: PoolShape): NodeSpec[] {
  if (!Number.isInteger(shape.nodes) || shape.nodes < 1) throw new RangeError(`--nodes must be a positive integer, got ${shape.nodes}`);
  if (!(shape.cpu > 0)) throw new RangeError(`--node-cpu must be positive, got ${shape.cpu}`);
  if (!(shape.memoryMiB > 0)) throw new RangeError(`--node-memory must be positive, got ${shape.memoryMiB}`);
  return Array.from({ length: shape.nodes }, (_, i) => ({ id: `n${i + 1}`, cpu: shape.cpu, memoryMiB: shape.memoryMiB, diskMiB: shape.diskMiB }));
}
