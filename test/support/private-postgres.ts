// A PostgreSQL cluster of one test's own, from the machine's binaries, in a temporary directory:
// for what cannot be done to the shared test server (restart it, crash it) while other tests use
// it. It listens on 127.0.0.1 only, on a free port, with trust auth and its Unix socket in its
// own directory. PostgreSQL refuses to run as root, so as root every binary runs as the
// `postgres` user (runuser), which owns the directory.

import { execFile, execFileSync, spawn } from 'node:child_process';
import { appendFileSync, chownSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { freePort } from './free-port.ts';

const run = promisify(execFile);
const ROOT = '/usr/lib/postgresql';

/**
 * Waits for the test's process to end however it ends (a SIGKILL, a Ctrl-C, which run no exit
 * handler), then stops the cluster and removes its directory. In a session of its own, so that a
 * Ctrl-C to the test's process group does not end it too. Arguments: pid, data, dir, the pg_ctl command.
 */
const WATCHDOG = `pid=$1 data=$2 dir=$3; shift 3
while kill -0 "$pid" 2>/dev/null; do sleep 1; done
"$@" -D "$data" -m immediate -w stop >/dev/null 2>&1
rm -rf "$dir"`;

export interface PrivatePostgres {
  /** postgres://postgres@127.0.0.1:PORT/postgres */
  readonly url: string;
  readonly port: number;
  /** The server's log (every start's), for a failing test's message. */
  log(): string;
  /**
   * `fast`: a clean shutdown (sessions ended, a checkpoint); `immediate`: a crash, recovered from
   * the WAL at the next start. `downMs`: how long it stays stopped (pg_ctl restart starts it again
   * at once), as a database whose recovery or maintenance takes a while.
   */
  restart(opts: { mode: 'fast' | 'immediate'; downMs?: number }): Promise<void>;
  /** Stops the server and removes its directory; safe to call twice, and after a failed start. */
  stop(): Promise<void>;
}

/** The newest installed major version's bin directory (/usr/lib/postgresql/NN/bin). */
export function postgresBinDir(): string {
  const versions = existsSync(ROOT) ? readdirSync(ROOT).filter((v) => /^\d+$/.test(v) && existsSync(join(ROOT, v, 'bin', 'initdb'))) : [];
  if (versions.length === 0) {
    throw new Error(`no PostgreSQL server binaries under ${ROOT}/<version>/bin (initdb, pg_ctl): run \`bash scripts/ensure-test-packages.sh\` as root, which installs Debian's postgresql package`);
  }
  const newest = versions.map(Number).sort((a, b) => b - a)[0];
  return join(ROOT, String(newest), 'bin');
}

/** Creates the cluster and starts it; the caller must stop() it (in an after hook), failed test or not. */
export async function startPrivatePostgres(): Promise<PrivatePostgres> {
  const bin = postgresBinDir();
  const asRoot = process.getuid?.() === 0;
  const dir = mkdtempSync(join(tmpdir(), 'vws-pg-'));
  const data = join(dir, 'data');
  const logFile = join(dir, 'server.log');
  const as = (tool: string, args: string[]): [string, string[]] => (asRoot ? ['runuser', ['-u', 'postgres', '--', join(bin, tool), ...args]] : [join(bin, tool), args]);
  const tool = async (name: string, args: string[]): Promise<void> => {
    const [file, argv] = as(name, args);
    try {
      await run(file, argv, { timeout: 120_000 });
    } catch (e) {
      const { stdout = '', stderr = '' } = e as { stdout?: string; stderr?: string };
      throw new Error(`${name} ${args.join(' ')} failed: ${(e as Error).message}\n${stdout}${stderr}\n${readLog()}`, { cause: e });
    }
  };
  const readLog = (): string => (existsSync(logFile) ? readFileSync(logFile, 'utf8') : '');
  const [ctl, ctlArgs] = as('pg_ctl', []);
  const watchdog = spawn('sh', ['-c', WATCHDOG, 'vws-pg-watchdog', String(process.pid), data, dir, ctl, ...ctlArgs], { detached: true, stdio: 'ignore' });
  watchdog.unref();
  let stopped = false;
  const stopNow = (): void => {
    // Synchronous, for the process's exit: a test that failed or timed out must not leave a server behind.
    if (stopped) return;
    stopped = true;
    watchdog.kill();
    if (existsSync(join(data, 'postmaster.pid'))) {
      const [file, argv] = as('pg_ctl', ['-D', data, '-m', 'immediate', '-w', 'stop']);
      try {
        execFileSync(file, argv, { stdio: 'ignore', timeout: 60_000 });
      } catch {
        // Not running after all (a failed start): nothing to stop.
      }
    }
    rmSync(dir, { recursive: true, force: true });
  };
  process.once('exit', stopNow);

  try {
    if (asRoot) {
      const uid = Number(execFileSync('id', ['-u', 'postgres'], { encoding: 'utf8' }));
      const gid = Number(execFileSync('id', ['-g', 'postgres'], { encoding: 'utf8' }));
      chownSync(dir, uid, gid);
      mkdirSync(data, { mode: 0o700 });
      chownSync(data, uid, gid);
    }
    await tool('initdb', ['-D', data, '-U', 'postgres', '--auth=trust', '--encoding=UTF8', '--no-locale', '--no-sync']);
    const port = await freePort();
    // fsync and full_page_writes off: they guard committed data only against the operating system
    // crashing or losing power. A crash restart (pg_ctl -m immediate) kills PostgreSQL's processes,
    // not the kernel: the WAL of every committed transaction was already written to the kernel at
    // COMMIT (synchronous_commit stays on, which is what that needs), and recovery replays it.
    appendFileSync(join(data, 'postgresql.conf'), [
      '', '# vws test: a private cluster (test/support/private-postgres.ts)',
      "listen_addresses = '127.0.0.1'", `port = ${port}`, `unix_socket_directories = '${dir}'`,
      'fsync = off', 'full_page_writes = off', 'synchronous_commit = on',
      'max_connections = 100', "shared_buffers = '32MB'", 'logging_collector = off', '',
    ].join('\n'));
    const start = (): Promise<void> => tool('pg_ctl', ['-D', data, '-l', logFile, '-w', '-t', '60', 'start']);
    await start();
    return {
      url: `postgres://postgres@127.0.0.1:${port}/postgres`,
      port,
      log: readLog,
      restart: async ({ mode, downMs }) => {
        if (downMs === undefined) return tool('pg_ctl', ['-D', data, '-l', logFile, '-m', mode, '-w', '-t', '60', 'restart']);
        await tool('pg_ctl', ['-D', data, '-m', mode, '-w', '-t', '60', 'stop']);
        await new Promise((r) => setTimeout(r, downMs));
        await start();
      },
      stop: async () => {
        process.off('exit', stopNow);
        stopNow();
      },
    };
  } catch (e) {
    process.off('exit', stopNow);
    stopNow();
    throw e;
  }
}
