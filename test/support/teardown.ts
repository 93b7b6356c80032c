// What a test starts under a temporary directory of its own (a PostgreSQL cluster, a Slurm
// cluster) must end with it however the test ends: when the test stops it, at the process's exit
// (a failed or timed-out test), and when the process is killed outright (SIGKILL, Ctrl-C: no exit
// handler runs) by a watchdog that outlives it.

import { spawn } from 'node:child_process';
import { rmSync } from 'node:fs';

/**
 * Waits for the test's process to end, then runs the stop command and removes the directory. In a
 * session of its own, so that a Ctrl-C to the test's process group does not end it too.
 * Arguments: pid, dir, the stop command.
 */
const WATCHDOG = `pid=$1 dir=$2; shift 2
while kill -0 "$pid" 2>/dev/null; do sleep 1; done
"$@" >/dev/null 2>&1
rm -rf "$dir"`;

/**
 * Arms the watchdog (`name` is its process title) and the exit handler; the returned function is
 * the test's stop: it runs `stopNow` (synchronous, as an exit handler must be) and removes `dir`,
 * once, whichever comes first. `stopCommand` is what the watchdog runs for `stopNow`.
 */
export function tearDownWith(name: string, dir: string, stopCommand: readonly string[], stopNow: () => void): () => void {
  const watchdog = spawn('sh', ['-c', WATCHDOG, name, String(process.pid), dir, ...stopCommand], { detached: true, stdio: 'ignore' });
  watchdog.unref();
  let done = false;
  const tearDown = (): void => {
    if (done) return;
    done = true;
    process.off('exit', tearDown);
    watchdog.kill();
    try {
      stopNow();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  };
  process.once('exit', tearDown);
  return tearDown;
}

/** Runs every step of a teardown, whatever fails, and answers what failed (each step's message). */
export async function runEveryStep(steps: ReadonlyArray<() => unknown>): Promise<string[]> {
  const failures: string[] = [];
  for (const step of steps) {
    try {
      await step();
    } catch (e) {
      failures.push((e as Error).message);
    }
  }
  return failures;
}
