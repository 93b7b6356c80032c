// What the command line gave one command, as the command's code reads it; kept apart from the
// parser (../cli/program.ts) so that commands do not load it.

/** Option values keyed by long option name ('tls-cert', 'no-migration'), global options included. */
export type Values = Record<string, string | boolean | string[] | undefined>;

/** One command line, parsed: the command's path ("lease create"), its options and its arguments. */
export interface Invocation {
  path: string;
  values: Values;
  positionals: string[];
}

/** A command's code: loaded only when the command runs; resolves to the exit code. */
export type Runner = (invocation: Invocation) => Promise<number>;
