// One vws.schedule/v1 export of a pool split into cells: the whole pool's nodes in the header
// (the cells' ids are distinct: cells.ts splitNodes), then each cell's leases, cell by cell, as
// that cell's own export writes them. One file that the shared checker reads as one pool: what it
// checks per node holds within each cell, and no lease is in two cells.

import { closeSync, mkdirSync, openSync, writeSync } from 'node:fs';
import { dirname } from 'node:path';
import type { NodeSpec } from '../core/types.ts';
import type { CellsRun } from './cell-simulation.ts';
import { scheduleHeader, scheduleLines } from './schedule-export.ts';

export function* cellsScheduleLines(run: CellsRun, nodes: readonly NodeSpec[]): Generator<string> {
  yield scheduleHeader(nodes);
  for (const c of run.cells) {
    const lines = scheduleLines(c.scheduler.allLeases(), c.nodes);
    lines.next(); // the cell's own header
    yield* lines;
  }
}

/** Writes the export to `path` (its folder made if missing), a cell's lines at a time. */
export function writeCellsSchedule(path: string, run: CellsRun, nodes: readonly NodeSpec[]): void {
  mkdirSync(dirname(path), { recursive: true });
  const fd = openSync(path, 'w');
  try {
    let piece: string[] = [];
    const flush = (): void => {
      writeSync(fd, piece.join(''));
      piece = [];
    };
    for (const line of cellsScheduleLines(run, nodes)) {
      piece.push(`${line}\n`);
      if (piece.length >= 4096) flush();
    }
    flush();
  } finally {
    closeSync(fd);
  }
}
