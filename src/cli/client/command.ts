// What every client command does around its one API call: find the credentials, and print
// either the API's JSON (--json) or text for people.

import type { Args } from './args.ts';
import { configPath, readConfig, resolveCredentials } from './config.ts';
import { Api } from './http.ts';

/** A client command: runs with its parsed command line; resolves to the exit code. */
export type Command = (args: Args) => Promise<number>;

export function connect(args: Args): Api {
  const config = readConfig(configPath(), (warning) => process.stderr.write(`vws: warning: ${warning}\n`));
  const { server, token } = resolveCredentials(args.credentials, process.env, config);
  return new Api(server, token);
}

/** Prints `body` as JSON with --json, else `text()`; returns 0 so commands can end with it. */
export function emit(args: Args, body: unknown, text: () => string): number {
  const out = args.json ? JSON.stringify(body, null, 2) : text();
  if (out !== '') process.stdout.write(`${out}\n`);
  return 0;
}

export const enc = encodeURIComponent;

export const now = (): number => Math.floor(Date.now() / 1000);
