// The client commands' entry point: picks the subcommand and turns failures into exit codes
// (2: the command line is wrong; 1: the server refused or could not be reached).

import { UsageError } from '../usage-error.ts';
import { GROUP_COMMANDS, TOKEN_COMMANDS, USER_COMMANDS } from './account-commands.ts';
import type { Command } from './command.ts';
import { ApiFailure, ClientError } from './errors.ts';
import { HELP } from './help.ts';
import { IMAGE_COMMANDS } from './image-commands.ts';
import { LEASE_COMMANDS } from './lease-commands.ts';
import { LOGIN_COMMAND } from './login.ts';
import { NODE_COMMANDS } from './node-commands.ts';
import { USAGE_COMMAND } from './usage-command.ts';
import { WATCH_COMMAND } from './watch.ts';
import { WORKSPACE_COMMANDS } from './workspace-commands.ts';

export { CLIENT_SUMMARY } from './help.ts';

/** Top-level commands with subcommands; login and usage are commands on their own. */
const GROUPS: Record<string, Record<string, Command>> = {
  lease: { ...LEASE_COMMANDS, watch: WATCH_COMMAND },
  workspace: WORKSPACE_COMMANDS,
  node: NODE_COMMANDS,
  image: IMAGE_COMMANDS,
  user: USER_COMMANDS,
  group: GROUP_COMMANDS,
  token: TOKEN_COMMANDS,
};
const SINGLES: Record<string, Command> = { login: LOGIN_COMMAND, usage: USAGE_COMMAND };

export const isClientCommand = (command: string): boolean => command in GROUPS || command in SINGLES;

function pick(command: string, argv: string[]): { run: Command; rest: string[] } {
  const single = SINGLES[command];
  if (single) return { run: single, rest: argv };
  const [sub, ...rest] = argv;
  const subs = GROUPS[command];
  if (sub === undefined) throw new UsageError(`${command} needs a subcommand: ${Object.keys(subs).join(', ')}`);
  const run = Object.hasOwn(subs, sub) ? subs[sub] : undefined;
  if (!run) throw new UsageError(`${command} has no subcommand '${sub}'; it has ${Object.keys(subs).join(', ')}`);
  return { run, rest };
}

export async function clientCommand(command: string, argv: string[]): Promise<number> {
  // `vws lease watch | head` closes the pipe early: stop quietly, as other Unix tools do.
  process.stdout.once('error', (e: NodeJS.ErrnoException) => {
    if (e.code !== 'EPIPE') throw e;
    process.exit(0);
  });
  if (argv.includes('--help') || argv.includes('-h')) {
    process.stdout.write(HELP[command]);
    return 0;
  }
  try {
    const { run, rest } = pick(command, argv);
    return await run(rest);
  } catch (e) {
    if (e instanceof UsageError) {
      process.stderr.write(`vws: ${e.message}\nrun \`vws ${command} --help\` for the options\n`);
      return 2;
    }
    if (e instanceof ApiFailure) {
      process.stderr.write([`vws: ${e.message} (${e.body.code})`, ...e.hint].join('\n') + '\n');
      // Scripts asked for JSON: they get the error's too, with its alternatives.
      if (argv.includes('--json')) process.stdout.write(`${JSON.stringify(e.body, null, 2)}\n`);
      return 1;
    }
    if (e instanceof ClientError) {
      process.stderr.write(`vws: ${e.message}\n`);
      return 1;
    }
    throw e;
  }
}
