// The shape of an action: it reads all its parameters first, synchronously (so that an
// unsupported one is refused before anything is done), and returns what does the work.

import type { Ec2Caller, Ec2Options } from './context.ts';
import type { Params } from './query.ts';
import type { XmlValue } from './xml.ts';

export type Answer = { [name: string]: XmlValue };

export type Action = (p: Params) => (opts: Ec2Options, caller: Ec2Caller) => Promise<Answer>;
