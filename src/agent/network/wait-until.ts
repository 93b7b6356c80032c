// Waiting for another process (dnsmasq, the kernel) to get somewhere. The deadline is a guard
// against waiting forever, never an expectation of how long it takes.

export const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** Resolves with the first truthy value of `check`; rejects with `failure()` once `deadlineMs` passed. */
export async function waitUntil<T>(check: () => T | undefined | false, deadlineMs: number, failure: () => Error, everyMs = 20): Promise<T> {
  const end = Date.now() + deadlineMs;
  for (;;) {
    const value = check();
    if (value) return value;
    if (Date.now() > end) throw failure();
    await sleep(everyMs);
  }
}
