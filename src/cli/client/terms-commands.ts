// vws terms show: the site's terms in force and the kinds you may ask for; vws terms set FILE: an
// administrator puts new terms in force (the server reads them and names what is wrong).

import { readFileSync } from 'node:fs';
import { type Command, connect, emit } from './command.ts';
import { ClientError } from './errors.ts';
import { table } from './tables.ts';

interface KindTermsBody { groups: string[] | null; maxNodes: number | null; minDuration: number | null; maxDuration: number | null; maxHorizon: number | null; preemptible: boolean; priceFactor: number }
interface TermsBody {
  version: number;
  since: number;
  yours?: string[];
  terms: { unit: { name: string; definition: string; perCoreHour: number; perGiBHour: number; preemptibleFactor: number }; kinds: Record<string, KindTermsBody>; holds: { maxTtl: number } };
}

const orAny = (v: number | null, unit = ''): string => (v === null ? '-' : `${v}${unit}`);

function termsText(b: TermsBody): string {
  const { unit, kinds, holds } = b.terms;
  const rows = Object.entries(kinds).map(([kind, k]) => [
    kind, k.groups === null ? 'everyone' : k.groups.join(','), orAny(k.maxNodes), orAny(k.minDuration, 's'), orAny(k.maxDuration, 's'), orAny(k.maxHorizon, 's'),
    k.preemptible ? 'yes' : 'no', `${k.priceFactor}x`,
  ]);
  return [
    `terms version ${b.version}${b.since > 0 ? `, in force since ${new Date(b.since * 1000).toISOString()}` : ''}`,
    `unit: 1 ${unit.name} = ${unit.definition}; ${unit.perCoreHour} ${unit.name}/core-hour, ${unit.perGiBHour} ${unit.name}/GiB-hour; preemptible leases ${unit.preemptibleFactor}x`,
    `holds: at most ${holds.maxTtl} s`,
    '',
    table(['KIND', 'WHO', 'MAX NODES', 'MIN DURATION', 'MAX DURATION', 'MAX AHEAD', 'PREEMPTIBLE', 'PRICE'], rows),
    ...(b.yours ? ['', `you may ask for: ${b.yours.join(', ') || 'nothing'}`] : []),
  ].join('\n');
}

export const TERMS_COMMANDS: Record<string, Command> = {
  show: async (args) => {
    const res = await connect(args).get<TermsBody>('/v1/terms');
    return emit(args, res.body, () => termsText(res.body));
  },
  set: async (args) => {
    const file = args.positionals[0];
    let doc: unknown;
    try {
      doc = JSON.parse(readFileSync(file, 'utf8'));
    } catch (e) {
      throw new ClientError(`${file}: ${(e as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : `not a JSON terms document (${(e as Error).message})`}: see docs/terms.md`);
    }
    const res = await connect(args).send<TermsBody>('PUT', '/v1/terms', doc);
    return emit(args, res.body, () => `terms version ${res.body.version} in force\n\n${termsText(res.body)}`);
  },
};
