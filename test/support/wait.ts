// Waiting in tests on a state, never on the clock. An event is awaited as itself (a promise its
// listener resolves); a state that no event announces is looked at until it holds. Each wait has
// one generous deadline against a hang, which only ever fails the test: nothing asserts how long
// a wait took, and no wait stands in for the state it is waiting for.

/** Long enough for a loaded machine running QEMU under TCG; a test's own timeout may be shorter. */
export const PATIENCE_MS = 180_000;

export interface WaitOptions {
  /** The deadline against a hang (PATIENCE_MS by default). */
  timeoutMs?: number;
  /** How often a state that announces nothing is looked at again. */
  everyMs?: number;
  /** What was last there, for the message of a wait that gave up. */
  seen?: () => unknown;
}

/**
 * The first value `probe` gives that is neither undefined nor false, for a state that no event
 * announces (a file, another process, a guest): it is looked at again every `everyMs`.
 */
export async function waitFor<T>(what: string, probe: () => T | undefined | false | Promise<T | undefined | false>, opts: WaitOptions = {}): Promise<T> {
  const timeoutMs = opts.timeoutMs ?? PATIENCE_MS;
  const giveUpAt = Date.now() + timeoutMs;
  for (;;) {
    const found = await probe();
    if (found !== undefined && found !== false) return found;
    if (Date.now() > giveUpAt) throw gaveUp(what, timeoutMs, opts.seen);
    await new Promise((resolve) => setTimeout(resolve, opts.everyMs ?? 20));
  }
}

function gaveUp(what: string, timeoutMs: number, seen?: () => unknown): Error {
  const last = seen ? `; last seen: ${JSON.stringify(seen())}` : '';
  return new Error(`gave up waiting for ${what} after ${timeoutMs} ms (a guard against a hang, not a time limit)${last}`);
}
