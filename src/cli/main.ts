// Runs one vws command line and turns its failures into exit codes: 2 when the line is wrong
// (a usage error, a bad trace), 1 when a server refused or could not be reached.

import { CommanderError } from 'commander';
import { TraceError } from '../sim/readers/errors.ts';
import { ApiFailure, ClientError } from './client/errors.ts';
import { buildProgram } from './program.ts';
import { UsageError } from './usage-error.ts';

export async function main(argv: string[]): Promise<number> {
  let code = 0;
  let path = '';
  let json = false;
  const program = buildProgram(async (invocation, load) => {
    path = invocation.path;
    json = invocation.values.json === true;
    const run = await load();
    code = await run(invocation);
  });
  // `vws lease watch | head` closes the pipe early: stop quietly, as other Unix tools do.
  process.stdout.once('error', (e: NodeJS.ErrnoException) => {
    if (e.code !== 'EPIPE') throw e;
    process.exit(0);
  });
  try {
    await program.parseAsync(argv, { from: 'user' });
    return code;
  } catch (e) {
    // Commander has printed its message (see program.ts); --help and --version end here too, with 0.
    if (e instanceof CommanderError) return e.exitCode === 0 ? 0 : 2;
    if (e instanceof UsageError) {
      process.stderr.write(`vws: ${e.message}\nrun \`vws ${path} --help\` for the options\n`);
      return 2;
    }
    if (e instanceof TraceError || e instanceof RangeError) {
      process.stderr.write(`vws: ${e.message}\n`);
      return 2;
    }
    if (e instanceof ApiFailure) {
      process.stderr.write([`vws: ${e.message} (${e.body.code})`, ...e.hint].join('\n') + '\n');
      // Scripts asked for JSON: they get the error's too, with its alternatives.
      if (json) process.stdout.write(`${JSON.stringify(e.body, null, 2)}\n`);
      return 1;
    }
    if (e instanceof ClientError) {
      process.stderr.write(`vws: ${e.message}\n`);
      return 1;
    }
    throw e;
  }
}
