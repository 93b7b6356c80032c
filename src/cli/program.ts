// The vws command line as commander parses it: global options, the command tree, and the wording
// of its errors. Commands are described here and their code is imported only when one runs, so
// `vws --help` loads neither fastify, nor the stores, nor the simulator.

import { readFileSync } from 'node:fs';
import { Argument, Command, CommanderError, Option, type OutputConfiguration } from 'commander';
import { addClientCommands } from './client/commands.ts';
import { addLocalCommands } from './local-commands.ts';
import { UsageError } from './usage-error.ts';
import { commandPath, type Invocation, type Leaf, type Runner, type Values } from './values.ts';

export function packageVersion(): string {
  return (JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string }).version;
}

/** The values of `cmd`'s options and its ancestors' (the global options), by long option name. */
function valuesOf(cmd: Command): Values {
  const values: Values = {};
  for (let c: Command | null = cmd; c; c = c.parent) {
    const opts = c.opts();
    for (const o of c.options) {
      const name = o.long!.slice(2);
      const value = opts[o.attributeName()] as Values[string];
      // A lone --no-X reads as a flag of its own name; a --no-X beside --X sets X to false.
      if (!o.negate) values[name] ??= value;
      else if (!c.options.some((p) => p.long === `--${name.slice(3)}`)) values[name] ??= value === false;
    }
  }
  return values;
}

/**
 * Says which command a failed line belongs to, and how to read its options; an unknown subcommand
 * is answered with the ones there are. Commander's own wording otherwise ("unknown option").
 */
function explainErrors(cmd: Command): void {
  const path = commandPath(cmd);
  cmd.showHelpAfterError(`run \`vws${path ? ` ${path}` : ''} --help\` for the options`);
  cmd.configureOutput({
    outputError: (text, write) => {
      const names = cmd.commands.map((c) => c.name()).filter((n) => n !== 'help');
      text = text.replace(/^error: unknown command '([^']*)'/, (_, name: string) =>
        path ? `error: ${path} has no subcommand '${name}'; it has ${names.join(', ')}` : `error: unknown command '${name}'; the commands are ${names.join(', ')}`);
      const missing = /^error: missing required argument '([^']*)'/.exec(text);
      if (missing) text = `error: ${path} needs ${missing[1]}: vws ${path} ${cmd.registeredArguments.map((a) => (a.required ? `<${a.name()}>` : `[${a.name()}]`)).join(' ')}\n`;
      write(text.replace(/^error: /, 'vws: '));
    },
  });
}

/** --X and --no-X on one line contradict each other; commander would let the last one win. */
function refuseContradictions(cmd: Command): void {
  for (const o of cmd.options.filter((x) => x.negate)) {
    const positive = o.long!.replace(/^--no-/, '--');
    if (!cmd.options.some((p) => p.long === positive)) continue;
    const seen = new Set<string>();
    for (const flag of [positive, o.long!]) {
      cmd.on(`option:${flag.slice(2)}`, () => {
        seen.add(flag);
        if (seen.size === 2) cmd.error(`vws: ${positive} and ${o.long} contradict each other`, { code: 'vws.contradiction', exitCode: 2 });
      });
    }
  }
}

/**
 * The whole command tree. `onRun` is called with the command a line asks for, once it is parsed
 * and before its code is loaded: main runs it; tests can look at it instead.
 */
export function buildProgram(onRun: (invocation: Invocation, load: () => Promise<Runner>) => Promise<void>, output: OutputConfiguration = {}): Command {
  const program = new Command('vws')
    .configureOutput(output)
    .description('the virtual workspace service: leases virtual machines on a pool of nodes, and simulates its scheduler over workload traces')
    .usage('<command> [options]')
    .version(`vws ${packageVersion()}`, '-V, --version', 'print the version')
    // Global options: read wherever they stand on the line, so no command may define its own of these names.
    .addOption(new Option('--server <URL>', 'the vws server (else VWS_SERVER, else the one vws login stored)'))
    .addOption(new Option('--token <T>', 'a bearer token (else VWS_TOKEN, else the one vws login stored)'))
    .addOption(new Option('--json', 'print JSON instead of text'))
    .helpOption('-h, --help', 'print the options of a command')
    .helpCommand('help [command]', 'print the options of a command (vws help sim)')
    .configureHelp({ showGlobalOptions: true })
    .exitOverride();

  const leaf: Leaf = (parent, nameAndArgs, summary, load) => {
    const cmd = parent.command(nameAndArgs).description(summary);
    cmd.action(async () => {
      await onRun({ path: commandPath(cmd), values: valuesOf(cmd), positionals: cmd.processedArgs as string[] }, load);
    });
    return cmd;
  };
  program.commandsGroup('Commands:');
  addLocalCommands(program, leaf);
  program.command('version').description('print the version').action(() => {
    process.stdout.write(`${program.version()}\n`);
  });
  program.command('completion').description('print a shell completion script: eval "$(vws completion bash)"')
    .addArgument(new Argument('<shell>', 'the shell').choices(['bash']))
    .action(async () => {
      const { bashCompletion } = await import('./completion.ts');
      process.stdout.write(bashCompletion(program));
    });

  program.commandsGroup('Client commands (they call a vws server):');
  addClientCommands(program, leaf);

  const walk = (cmd: Command): void => {
    explainErrors(cmd);
    refuseContradictions(cmd);
    cmd.commands.forEach(walk);
  };
  walk(program);
  return program;
}

/** What a line asks to run, without running it; a line commander refuses throws a UsageError with its message. */
export async function parseLine(argv: string[]): Promise<Invocation> {
  let parsed: Invocation | undefined;
  let errors = '';
  const program = buildProgram(async (invocation) => {
    parsed = invocation;
  }, { writeOut: () => undefined, writeErr: (text) => (errors += text) });
  try {
    await program.parseAsync(argv, { from: 'user' });
  } catch (e) {
    if (e instanceof CommanderError) throw new UsageError(errors.trim() || e.message);
    throw e;
  }
  if (!parsed) throw new UsageError(`vws ${argv.join(' ')} runs no command`);
  return parsed;
}
