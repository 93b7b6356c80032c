import { execFile, spawnSync } from 'node:child_process';

const CHECKER = new URL('../../shared/tools/validate-schedule', import.meta.url).pathname;

interface CheckOptions {
  nodes: number;
  runtimeOverheadPercent: number;
  metricsPath?: string;
}

interface CheckResult {
  ok: boolean;
  summary: string;
}

function checkerArgs(schedulePath: string, opts: CheckOptions): string[] {
  const args = [CHECKER, schedulePath, '--nodes', String(opts.nodes), '--runtime-overhead', String(opts.runtimeOverheadPercent)];
  if (opts.metricsPath) args.push('--metrics', opts.metricsPath);
  return args;
}

/** The checker's last line when it passed, its last six when it did not. */
function resultOf(ok: boolean, output: string): CheckResult {
  const lines = output.trim().split('\n');
  return { ok, summary: ok ? lines[lines.length - 1] : lines.slice(-6).join('\n') };
}

const cannotRun = (e: Error): Error => new Error(`cannot run the schedule checker (python3 ${CHECKER}): ${e.message}`);

/** Runs the shared, independent checker on an export; returns its last line and whether it passed. */
export function validateExport(schedulePath: string, opts: CheckOptions): CheckResult {
  const r = spawnSync('python3', checkerArgs(schedulePath, opts), { encoding: 'utf8' });
  if (r.error) throw cannotRun(r.error);
  return resultOf(r.status === 0, `${r.stdout}${r.stderr}`);
}

/** validateExport without holding the event loop, so that several exports are checked at once. */
export function validateExportAsync(schedulePath: string, opts: CheckOptions): Promise<CheckResult> {
  return new Promise((resolve, reject) => {
    execFile('python3', checkerArgs(schedulePath, opts), { encoding: 'utf8', maxBuffer: 1 << 26 }, (e, stdout, stderr) => {
      // A checker that ran and found violations exits with a status; anything else is the checker not running.
      if (e && typeof e.code !== 'number') reject(cannotRun(e));
      else resolve(resultOf(!e, `${stdout}${stderr}`));
    });
  });
}
