// vws lease create | quote | hold | commit | list | show | cancel (watch is in watch.ts).

import { UsageError } from '../usage-error.ts';
import { type Args, integerOption } from './args.ts';
import { readLeaseFile, whereInFile } from './lease-file.ts';
import { type Command, connect, emit, enc, now } from './command.ts';
import { ApiFailure } from './errors.ts';
import { KINDS, type LeaseSpec, specFromArgs } from './lease-spec.ts';
import { FINAL_STATUSES, LEASE_STATUSES, type LeaseBody, leaseDetail, leaseTable } from './lease-text.ts';
import { alternativesText, type QuoteBody, quoteText } from './offers.ts';
import { durationText, parseDuration, relativeText } from './parse-time.ts';
import { when } from './tables.ts';

interface Placed {
  lease: LeaseBody;
  decision: { state?: string; preempted?: Array<{ leaseId: string; how: string }> };
}

/** Runs a request that may be refused; a refusal's alternatives are printed as `vws lease <verb>` commands. */
async function negotiate<T>(verb: string, extra: string[], call: () => Promise<T>): Promise<T> {
  try {
    return await call();
  } catch (e) {
    if (e instanceof ApiFailure && (e.body.alternatives !== undefined || e.body.earliestStart !== undefined)) e.hint = alternativesText(e.body, verb, extra, now());
    throw e;
  }
}

function placedText(verb: string, { lease, decision }: Placed): string {
  const lines = [`lease ${lease.id} ${verb}: ${lease.status}${decision.state === 'queued' && lease.status !== 'running' ? ' (queued)' : ''}`];
  const start = lease.actualStart ?? lease.plannedStart;
  if (start !== null) lines.push(`  runs ${when(start)} (${relativeText(start, now())}) to ${when(lease.actualEnd ?? lease.plannedEnd)}${lease.nodes.length ? ` on ${lease.nodes.join(', ')}` : ''}`);
  for (const p of decision.preempted ?? []) lines.push(`  preempts ${p.leaseId} (${p.how})`);
  return lines.join('\n');
}

/** The body from -f FILE (if given) and the options over it; a refusal of one of the file's fields then names its line. */
function asked(args: Args): { spec: LeaseSpec; located<T>(prefix: string, call: () => Promise<T>): Promise<T> } {
  const path = args.string('file');
  const file = path !== undefined ? readLeaseFile(path) : null;
  const spec = specFromArgs(args, now(), file?.body);
  const fromFlags = new Set(Object.keys(spec).filter((k) => !file || JSON.stringify(spec[k as keyof LeaseSpec]) !== JSON.stringify(file.body[k])));
  return {
    spec,
    async located(prefix, call) {
      try {
        return await call();
      } catch (e) {
        const where = file && e instanceof ApiFailure ? whereInFile(file, e.body.path, prefix, fromFlags) : '';
        if (where) (e as ApiFailure).hint.unshift(`  in ${where}`);
        throw e;
      }
    },
  };
}

const create: Command = async (args) => {
  const { spec, located } = asked(args);
  const key = args.string('idempotency-key');
  const api = connect(args);
  const res = await located('body', () => negotiate('create', [], () => api.send<Placed>('POST', '/v1/leases', spec, key ? { 'idempotency-key': key } : {})));
  // 200 rather than 201: the key was seen before, and this is the lease it made then.
  return emit(args, res.body, () => placedText(res.status === 200 ? 'already created with this idempotency key' : 'created', res.body));
};

const quote: Command = async (args) => {
  const { spec, located } = asked(args);
  const res = await located('body', () => connect(args).send<QuoteBody>('POST', '/v1/leases/quote', spec));
  return emit(args, res.body, () => quoteText(res.body, now()));
};

const hold: Command = async (args) => {
  const { spec, located } = asked(args);
  // Only these are placed when accepted (the server answers others with 400 too; this says so without a round trip).
  if (!['exact', 'deadline', 'periodic'].includes(spec.kind)) throw new UsageError(`only exact, deadline and periodic leases can be held, not ${spec.kind}: use vws lease create`);
  const ttl = parseDuration('ttl', args.required('ttl', 'D (how long the hold lasts, at most 1d)'));
  if (ttl > 86400) throw new UsageError(`--ttl must be at most 1d, got '${args.string('ttl')}'`);
  const api = connect(args);
  const res = await located('body.lease', () => negotiate('hold', ['--ttl', durationText(ttl)], () => api.send<Placed>('POST', '/v1/leases/hold', { lease: spec, ttl })));
  return emit(args, res.body, () => `${placedText('held', res.body)}\n  the hold lapses in ${durationText(ttl)} unless committed: vws lease commit ${res.body.lease.id}`);
};

const commit: Command = async (args) => {
  const res = await connect(args).send<{ lease: LeaseBody }>('POST', `/v1/leases/${enc(args.positionals[0])}/commit`);
  return emit(args, res.body, () => placedText('committed', { lease: res.body.lease, decision: {} }));
};

const list: Command = async (args) => {
  const pageSize = integerOption('page-size', args.string('page-size') ?? '500', 1);
  if (pageSize > 1000) throw new UsageError(`--page-size must be at most 1000, got ${pageSize}`);
  const status = args.string('status');
  const kind = args.string('kind');
  if (status !== undefined && !(LEASE_STATUSES as readonly string[]).includes(status)) throw new UsageError(`--status must be one of ${LEASE_STATUSES.join(', ')}; got '${status}'`);
  if (kind !== undefined && !(KINDS as readonly string[]).includes(kind)) throw new UsageError(`--kind must be one of ${KINDS.join(', ')}; got '${kind}'`);
  const api = connect(args);
  const leases: LeaseBody[] = [];
  for (let after: string | undefined; ;) {
    const page = (await api.get<{ leases: LeaseBody[]; next: string | null }>('/v1/leases', { status, owner: args.string('owner'), kind, after, limit: pageSize })).body;
    leases.push(...page.leases);
    if (!page.next) break;
    after = page.next;
  }
  // Ended leases pile up; like `ps`, show the live ones unless asked for all or for a status.
  const shown = args.flag('all') || status !== undefined ? leases : leases.filter((l) => !FINAL_STATUSES.includes(l.status));
  return emit(args, { leases: shown, next: null }, () => leaseTable(shown));
};

const show: Command = async (args) => {
  const res = await connect(args).get<LeaseBody>(`/v1/leases/${enc(args.positionals[0])}`);
  return emit(args, res.body, () => leaseDetail(res.body));
};

const cancel: Command = async (args) => {
  const res = await connect(args).send<{ lease: LeaseBody }>('DELETE', `/v1/leases/${enc(args.positionals[0])}`);
  return emit(args, res.body, () => `lease ${res.body.lease.id} ${res.body.lease.status}`);
};

const migrate: Command = async (args) => {
  const to = args.string('to');
  if (!to) throw new UsageError('--to NODE[,NODE...] is needed: the nodes to move the lease to, one per node it runs on');
  const res = await connect(args).send<{ lease: LeaseBody }>('POST', `/v1/leases/${enc(args.positionals[0])}/migrate`, { nodes: to.split(',') });
  return emit(args, res.body, () => `lease ${res.body.lease.id} moving live to ${res.body.lease.nodes.join(', ')}`);
};

/** An owner's action on a running lease; the server acts on all its VMs together. */
const ownerAction = (action: 'stop' | 'suspend' | 'resume'): Command => async (args) => {
  const res = await connect(args).send<{ lease: LeaseBody }>('POST', `/v1/leases/${enc(args.positionals[0])}/${action}`);
  return emit(args, res.body, () => `lease ${res.body.lease.id} ${action}: now ${res.body.lease.status}`);
};

export const LEASE_COMMANDS: Record<string, Command> = {
  create, quote, hold, commit, list, show, cancel, migrate, stop: ownerAction('stop'), suspend: ownerAction('suspend'), resume: ownerAction('resume'),
};
