// The daemons the agent starts and adopts again after a restart (dnsmasq, the context relay's
// forwarder) are found by a pid file and recognised by their command line: a stale pid may be
// anyone's by now. One set of helpers for all of them.
import { existsSync, readFileSync } from 'node:fs';
import { waitUntil } from './wait-until.ts';

const STOP_DEADLINE_MS = 10_000;

/** Running, or gone (a zombie counts as gone: no init may be reaping in a container). */
export function isRunning(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const state = stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3);
    return state !== 'Z' && state !== 'X';
  } catch {
    return false;
  }
}

/** The process's arguments, argv[0] first; undefined once it is gone. */
export function commandLine(pid: number): string[] | undefined {
  try {
    const raw = readFileSync(`/proc/${pid}/cmdline`, 'utf8');
    return raw ? raw.replace(/\0$/, '').split('\0') : undefined;
  } catch {
    return undefined;
  }
}

/** The pid a pid file names, if it names one. */
export function readPid(file: string): number | undefined {
  if (!existsSync(file)) return undefined;
  const pid = Number(readFileSync(file, 'utf8').trim());
  return Number.isInteger(pid) && pid > 0 ? pid : undefined;
}

/** SIGTERM, then SIGKILL if it does not go; `what` names it in the error if it survives both. */
export async function stopProcess(pid: number, what: string): Promise<void> {
  signal(pid, 'SIGTERM');
  try {
    await waitUntil(() => !isRunning(pid), STOP_DEADLINE_MS, () => new Error(`${what} ${pid} ignored SIGTERM`));
  } catch {
    signal(pid, 'SIGKILL');
    await waitUntil(() => !isRunning(pid), STOP_DEADLINE_MS, () => new Error(`${what} ${pid} survived SIGKILL`));
  }
}

function signal(pid: number, sig: NodeJS.Signals): void {
  try {
    process.kill(pid, sig);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ESRCH') throw e;
  }
}
