import { spawnSync } from 'node:child_process';

const CHECKER = new URL('../../shared/tools/validate-schedule', import.meta.url).pathname;

/** Runs the shared, independent checker on an export; returns its last line and whether it passed. */
export function validateExport(schedulePath: string, opts: { nodes: number; runtimeOverheadPercent: number; metricsPath?: string }): { ok: boolean; summary: string } {
  const args = [CHECKER, schedulePath, '--nodes', String(opts.nodes), '--runtime-overhead', String(opts.runtimeOverheadPercent)];
  if (opts.metricsPath) args.push('--metrics', opts.metricsPath);
  const r = spawnSync('python3', args, { encoding: 'utf8' });
  if (r.error) throw new Error(`cannot run the schedule checker (python3 ${CHECKER}): ${r.error.message}`);
  const lines = `${r.stdout}${r.stderr}`.trim().split('\n');
  return { ok: r.status === 0, summary: r.status === 0 ? lines[lines.length - 1] : lines.slice(-6).join('\n') };
}
