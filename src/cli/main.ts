import { readFileSync } from 'node:fs';
import { TraceError } from '../sim/readers/index.ts';
import { CLIENT_SUMMARY, clientCommand, isClientCommand } from './client/dispatch.ts';
import { AGENT_USAGE, agentCommand } from './agent-command.ts';
import { demoCommand } from './demo-command.ts';
import { SERVE_USAGE, serveCommand } from './serve-command.ts';
import { SIM_USAGE, simCommand } from './sim-command.ts';
import { UsageError } from './usage-error.ts';

const USAGE = `usage: vws <command> [options]

commands
  demo      watch a minute of the service: a lease suspended for a reservation, then resumed
  serve     run the workspace service (REST API, store, control loop)
  agent     run a pool node: dial the service and run its VMs under QEMU
  sim       simulate the lease scheduler over a workload trace
  version   print the version
  help      this text (vws help sim: the options of sim)

client commands (vws <command> --help for their options)
${CLIENT_SUMMARY}`;

function version(): string {
  const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string };
  return pkg.version;
}

/** Commands that run here rather than call a server, with their help texts. */
const SERVER_COMMANDS: Record<'sim' | 'serve' | 'agent', [string, (argv: string[]) => Promise<number>]> = {
  sim: [SIM_USAGE, simCommand],
  serve: [SERVE_USAGE, serveCommand],
  agent: [AGENT_USAGE, agentCommand],
};

/** Runs one vws command; returns the process exit code (2 for a usage or input error). */
export async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  try {
    switch (command) {
      case 'sim':
      case 'serve':
      case 'agent': {
        const [usage, run] = SERVER_COMMANDS[command];
        if (rest.includes('--help') || rest.includes('-h')) {
          process.stdout.write(usage);
          return 0;
        }
        return await run(rest);
      }
      case 'demo':
        return await demoCommand(rest);
      case 'version':
      case '--version':
        process.stdout.write(`vws ${version()}\n`);
        return 0;
      case 'help':
      case '--help':
      case '-h':
      case undefined:
        process.stdout.write(rest[0] === 'sim' ? SIM_USAGE : USAGE);
        return command === undefined ? 2 : 0;
      default:
        if (isClientCommand(command)) return await clientCommand(command, rest);
        throw new UsageError(`unknown command '${command}'`);
    }
  } catch (e) {
    if (e instanceof UsageError) {
      process.stderr.write(`vws: ${e.message}\n${command === 'sim' ? 'run `vws sim --help` for the options' : USAGE}\n`);
      return 2;
    }
    if (e instanceof TraceError || e instanceof RangeError) {
      process.stderr.write(`vws: ${e.message}\n`);
      return 2;
    }
    throw e;
  }
}
