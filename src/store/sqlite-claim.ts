import { readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import Database from 'better-sqlite3';

/**
 * A server's hold on a SQLite store: an exclusive lock on a file beside it, taken through SQLite,
 * which the operating system lets go of when the process ends however it ends (kill -9 included).
 * A process id in a file, checked for life, was not enough: a dead server's id given to another
 * process kept the store claimed, and two servers starting at once could both find it free.
 * The id is still written, beside, for the message only.
 */
export class SqliteClaim {
  private constructor(private readonly lock: Database.Database, private readonly pidFile: string) {}

  /** Takes the claim for this process, or says which process holds it. */
  static take(storePath: string): SqliteClaim | { heldBy: number | null } {
    const lock = new Database(`${storePath}.server-lock`, { timeout: 0 });
    try {
      lock.pragma('locking_mode = EXCLUSIVE');
      lock.exec('BEGIN EXCLUSIVE');
    } catch (e) {
      lock.close();
      if ((e as { code?: string }).code !== 'SQLITE_BUSY') throw e;
      return { heldBy: pidIn(`${storePath}.server`) };
    }
    const pidFile = `${storePath}.server`;
    // Written whole, then moved in place: a reader never sees half an id.
    writeFileSync(`${pidFile}.${process.pid}`, `${process.pid}\n`, { mode: 0o600 });
    renameSync(`${pidFile}.${process.pid}`, pidFile);
    return new SqliteClaim(lock, pidFile);
  }

  release(): void {
    if (!this.lock.open) return;
    if (pidIn(this.pidFile) === process.pid) rmSync(this.pidFile, { force: true });
    this.lock.close();
  }
}

function pidIn(file: string): number | null {
  try {
    const pid = Number.parseInt(readFileSync(file, 'utf8'), 10);
    return Number.isInteger(pid) && pid > 0 ? pid : null;
  } catch {
    return null;
  }
}
