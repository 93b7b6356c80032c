// What `vws sim` says of a command line, parsed as the CLI parses it, on the small SWF fixture.
import { join } from 'node:path';
import { parseSimArgs, type SimOptions } from '../../src/cli/sim-command.ts';
import { root } from './vws-bin.ts';

export const SMALL_TRACE = join(root, 'test/fixtures/small.swf');

/** The refusal's message, or 'accepted'. */
export function simRefusal(extra: SimOptions): string {
  try {
    parseSimArgs({ trace: SMALL_TRACE, ...extra });
  } catch (e) {
    return (e as Error).message;
  }
  return 'accepted';
}
