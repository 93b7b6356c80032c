// A PostgreSQL cluster of one test's own, from the machine's binaries, in a temporary directory:
// for what cannot be done to the shared test server (restart it, crash it) while other tests use
// it. It listens on 127.0.0.1 only, on a free port, with trust auth and its Unix socket in its
// own directory. PostgreSQL refuses to run as root, so as root every binary runs as the
// `postgres` user (runuser), which owns the directory.

import { execFile, execFileSync } from 'node:child_process';
import { appendFileSync, chownSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { freePort } from './free-port.ts';
import { tearDownWith } from './teardown.ts';

const run = promisify(execFile);
const ROOT = '/usr/lib/postgresql';

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
  const stopArgs = ['-D', data, '-m', 'immediate', '-w', 'stop'];
  const stopNow = tearDownWith('vws-pg-watchdog', dir, as('pg_ctl', stopArgs).flat(), () => {
    if (!existsSync(join(data, 'postmaster.pid'))) return;
    const [file, argv] = as('pg_ctl', stopArgs);
    try {
      execFileSync(file, argv, { stdio: 'ignore', timeout: 60_000 });
    } catch {
      // Not running after all (a failed start): nothing to stop.
    }
  });

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
      stop: async () => stopNow(),
    };
  } catch (e) {
    stopNow();
    throw e;
  }
}
