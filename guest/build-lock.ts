// A lock between processes that build the same cached guest: a directory (mkdir is atomic) with
// the holder's pid in it. A waiter polls; a lock whose holder has died is taken over, so a build
// killed halfway never blocks the next test run.
import { mkdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/** Only guards against a holder that never finishes; nothing expects a build to take this long. */
const LOCK_WAIT_MS = 20 * 60_000;

const ORPHAN_MS = 60_000;

const mtimeOf = (path: string): number => {
  try {
    return statSync(path).mtimeMs;
  } catch {
    return Date.now();
  }
};

const isRunning = (pid: number): boolean => {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
};

/** Holds `lock` (a directory: mkdir is atomic) until `work` ends; a lock whose holder died is taken over. */
export async function withLock<T>(lock: string, work: () => Promise<T>, pollMs = 1000): Promise<T> {
  const end = Date.now() + LOCK_WAIT_MS;
  for (;;) {
    try {
      mkdirSync(lock);
      writeFileSync(join(lock, 'pid'), String(process.pid));
      break;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
      let holder = NaN;
      try {
        holder = Number(readFileSync(join(lock, 'pid'), 'utf8'));
      } catch {
        // Made but its pid not written yet: wait for it.
      }
      // A lock with no pid a minute after it was made lost its holder between mkdir and write.
      const orphaned = !(holder > 0) && Date.now() - mtimeOf(lock) > ORPHAN_MS;
      if ((holder > 0 && !isRunning(holder)) || orphaned) rmSync(lock, { recursive: true, force: true });
      else if (Date.now() > end) throw new Error(`the guest build is locked by ${lock} (pid ${holder}) for over ${LOCK_WAIT_MS / 60_000} minutes: remove it if no build runs`, { cause: e });
      else await new Promise((resolve) => setTimeout(resolve, pollMs));
    }
  }
  try {
    return await work();
  } finally {
    rmSync(lock, { recursive: true, force: true });
  }
}

