// What the command line gave one command, as the command's code reads it, and how a command is
// declared; kept apart from the parser (./program.ts) so that commands do not load it and the
// files that declare commands do not import the parser that imports them.

import type { Command } from 'commander';

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

/** Adds a command that runs `load()`'s code; `nameAndArgs` is commander's "show <ID>". */
export type Leaf = (parent: Command, nameAndArgs: string, summary: string, load: () => Promise<Runner>) => Command;

/** "lease create": the words that name `cmd` on the command line. */
export function commandPath(cmd: Command): string {
  const names: string[] = [];
  for (let c: Command | null = cmd; c?.parent; c = c.parent) names.unshift(c.name());
  return names.join(' ');
}
