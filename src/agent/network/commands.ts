// The one place the node network runs commands. A production agent runs them on the host; tests
// give a network namespace, and then every command runs inside it, so nothing a test does can
// touch the machine's real network.
import { execFile } from 'node:child_process';

export class CommandFailed extends Error {
  constructor(
    readonly command: string[],
    readonly exitCode: number | string | null,
    readonly stderr: string,
  ) {
    super(`${command.join(' ')} failed (${typeof exitCode === 'number' ? `exit ${exitCode}` : exitCode ?? 'killed'}): ${stderr.trim() || '(no output on stderr)'}`);
  }
}

/** Long enough for any `ip` call or dnsmasq's start; a guard against a hung command, not a tuning knob. */
const COMMAND_TIMEOUT_MS = 30_000;

export class Commands {
  constructor(readonly netns?: string) {}

  /** `ip` with `-n NETNS` when there is a namespace: cheaper than `ip netns exec`. */
  ip(args: string[]): Promise<string> {
    return run(this.netns ? ['ip', '-n', this.netns, ...args] : ['ip', ...args]);
  }

  /** `tc` with `-n NETNS` when there is a namespace (traffic shaping on the VMs' taps). */
  tc(args: string[]): Promise<string> {
    return run(this.netns ? ['tc', '-n', this.netns, ...args] : ['tc', ...args]);
  }

  /** Any other program, run inside the namespace when there is one. */
  exec(program: string, args: string[]): Promise<string> {
    return run(this.netns ? ['ip', 'netns', 'exec', this.netns, program, ...args] : [program, ...args]);
  }
}

function run(command: string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(command[0], command.slice(1), { timeout: COMMAND_TIMEOUT_MS, maxBuffer: 16 << 20 }, (error, stdout, stderr) => {
      if (!error) return resolve(stdout);
      const e = error as NodeJS.ErrnoException & { code?: number | string; signal?: string | null; killed?: boolean };
      if (e.code === 'ENOENT') return reject(new CommandFailed(command, 'not found', `${command[0]} is not installed or not on PATH`));
      const why = e.killed ? `timed out after ${COMMAND_TIMEOUT_MS} ms` : e.signal ? `killed by ${e.signal}` : typeof e.code === 'number' ? e.code : null;
      reject(new CommandFailed(command, why, stderr || e.message));
    });
  });
}
