// `--role NAME:KEY=VALUE,...`: one role of a cluster lease on the command line, for when a file
// is more than the job needs. Lists inside a value are joined with '+', which no role name,
// entry name, network or image name holds, so every value reads one way.

import { UsageError } from '../usage-error.ts';
import { integerOption, positiveNumberOption } from './args.ts';
import type { LeaseSpec } from '../../api/schemas.ts';

export type RoleSpec = NonNullable<LeaseSpec['roles']>[number];

export const ROLE_FLAG_KEYS = ['count', 'cpu', 'memory', 'disk', 'image', 'networks', 'provides', 'requires', 'min-count'] as const;

export const ROLE_FLAG_HELP = 'a cluster role, repeatable: NAME:count=N,cpu=C,memory=MiB[,disk=MiB][,image=IMG][,networks=public+private][,provides=E+E][,requires=ROLE.E+ROLE.E][,min-count=N] '
  + '(networks default to private; lists are joined with +)';

/** A role from one --role value; what the server checks (names, requirements met) is left to it, so both say the same. */
export function roleFromFlag(text: string): RoleSpec {
  const colon = text.indexOf(':');
  const where = `--role '${text.length > 60 ? `${text.slice(0, 60)}…` : text}'`;
  if (colon <= 0) throw new UsageError(`${where}: start with the role's name and a colon, e.g. --role 'worker:count=2,cpu=1,memory=512'`);
  const role: Partial<RoleSpec> & { name: string } = { name: text.slice(0, colon), networks: ['private'], provides: [], requires: [] };
  const seen = new Set<string>();
  for (const part of text.slice(colon + 1).split(',')) {
    const eq = part.indexOf('=');
    const key = eq < 0 ? part : part.slice(0, eq);
    const value = eq < 0 ? '' : part.slice(eq + 1);
    if (!(ROLE_FLAG_KEYS as readonly string[]).includes(key)) throw new UsageError(`${where}: unknown key '${key}'; the keys are ${ROLE_FLAG_KEYS.join(', ')}`);
    if (eq < 0 || value === '' && !['provides', 'requires'].includes(key)) throw new UsageError(`${where}: ${key} needs a value (${key}=...)`);
    if (seen.has(key)) throw new UsageError(`${where}: ${key} is given twice`);
    seen.add(key);
    const list = value === '' ? [] : value.split('+');
    const option = `role ${role.name} ${key}`;
    if (key === 'count') role.count = integerOption(option, value, 1);
    else if (key === 'cpu') role.cpu = positiveNumberOption(option, value);
    else if (key === 'memory') role.memoryMiB = integerOption(option, value, 1);
    else if (key === 'disk') role.diskMiB = integerOption(option, value, 0);
    else if (key === 'image') role.image = value;
    else if (key === 'min-count') role.minCount = integerOption(option, value, 1);
    else if (key === 'networks') role.networks = list as RoleSpec['networks'];
    else if (key === 'provides') role.provides = list;
    else role.requires = list;
  }
  const missing = ['count', 'cpu', 'memory'].filter((k) => !seen.has(k));
  if (missing.length > 0) throw new UsageError(`${where}: add ${missing.map((k) => `${k}=...`).join(', ')}`);
  return role as RoleSpec;
}

/** The --role value that gives `role` back (for printing a cluster's alternatives as commands). */
export function roleFlag(role: RoleSpec): string {
  const parts = [`count=${role.count}`, `cpu=${role.cpu}`, `memory=${role.memoryMiB}`];
  if (role.diskMiB) parts.push(`disk=${role.diskMiB}`);
  if (role.image !== undefined) parts.push(`image=${role.image}`);
  parts.push(`networks=${role.networks.join('+')}`);
  if (role.provides.length > 0) parts.push(`provides=${role.provides.join('+')}`);
  if (role.requires.length > 0) parts.push(`requires=${role.requires.join('+')}`);
  if (role.minCount !== undefined) parts.push(`min-count=${role.minCount}`);
  return `${role.name}:${parts.join(',')}`;
}
