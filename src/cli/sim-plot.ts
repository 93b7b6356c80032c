// `vws sim --plot DIR`: where the charts go, checked and made before the run rather than after it.

import { mkdirSync, type Stats, statSync } from 'node:fs';
import { UsageError } from './usage-error.ts';

export interface SimPlotOptions {
  plot?: string;
  at?: string;
  quote?: string;
}

function whyNot(e: NodeJS.ErrnoException): string {
  if (e.code === 'ENOTDIR') return 'part of its path is a file';
  if (e.code === 'EACCES' || e.code === 'EPERM') return 'no permission to write there';
  return e.code ?? e.message;
}

/** The directory to write the charts in, made if missing; null without --plot. */
export function plotDirOf(v: SimPlotOptions): string | null {
  const dir = v.plot;
  if (dir === undefined) return null;
  if (dir === '') throw new UsageError('--plot needs a directory to write the charts in (made if missing)');
  if (v.at !== undefined || v.quote !== undefined) throw new UsageError('--plot and --at/--quote do not go together: the charts draw a whole run; leave out --at and --quote to plot');
  let existing: Stats | undefined;
  try {
    existing = statSync(dir, { throwIfNoEntry: false });
    if (existing === undefined) mkdirSync(dir, { recursive: true });
  } catch (e) {
    throw new UsageError(`--plot ${dir}: cannot make that directory (${whyNot(e as NodeJS.ErrnoException)}); give one you can write to`);
  }
  if (existing && !existing.isDirectory()) throw new UsageError(`--plot ${dir}: that is a file, not a directory; give a directory to write utilization.svg, queue.svg and waits-by-size.svg in (made if missing)`);
  return dir;
}
