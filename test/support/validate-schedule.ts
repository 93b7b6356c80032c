// The shared, independent checker of schedule exports (shared/tools/validate-schedule), run on a
// vws.schedule/v1 export: its exit status (0: valid, 1: violations) and what it printed.

import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const VALIDATOR = fileURLToPath(new URL('../../../shared/tools/validate-schedule', import.meta.url));

/** `args`: the checker's options (--nodes, --cpu, --mem, --runtime-overhead...). */
export function validateSchedule(text: string, args: readonly string[] = []): { status: number | null; output: string } {
  const dir = mkdtempSync(join(tmpdir(), 'vws-schedule-'));
  try {
    const file = join(dir, 'schedule.jsonl');
    writeFileSync(file, text);
    const r = spawnSync('python3', [VALIDATOR, file, ...args], { encoding: 'utf8' });
    if (r.error) throw r.error;
    return { status: r.status, output: `${r.stdout}${r.stderr}` };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
