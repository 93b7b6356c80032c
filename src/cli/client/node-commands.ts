// vws node add | list | drain | remove: the pool, for administrators.

import { integerOption, positiveNumberOption } from './args.ts';
import { type Command, connect, emit, enc } from './command.ts';
import { table, when } from './tables.ts';

interface NodeBody {
  id: string;
  cpu: number;
  memoryMiB: number;
  diskMiB: number;
  /** What it leases of its network, Mbit/s; null: none. */
  bandwidthMbps: number | null;
  status: string;
  addedAt: number;
  departsAt: number | null;
  pilot: string | null;
  leases?: string[];
  /** Only when the nodes run agents; null until one has measured an operation. */
  estimates?: { suspendMiBps: number | null; resumeMiBps: number | null; migrateMiBps: number | null; bootSeconds: number | null; samples: number } | null;
}

const figure = (v: number | null | undefined): string => (v === null || v === undefined ? '-' : v.toFixed(v < 10 ? 1 : 0));

const add: Command = async (args) => {
  const disk = args.string('disk');
  const bandwidth = args.string('bandwidth');
  const body = {
    id: args.positionals[0],
    cpu: positiveNumberOption('cpu', args.required('cpu', 'C (its CPUs)')),
    memoryMiB: integerOption('memory', args.required('memory', 'MiB (its memory)'), 1),
    ...(disk !== undefined ? { diskMiB: integerOption('disk', disk, 0) } : {}),
    ...(bandwidth !== undefined ? { bandwidthMbps: positiveNumberOption('bandwidth', bandwidth) } : {}),
  };
  const res = await connect(args).send<NodeBody>('POST', '/v1/nodes', body);
  return emit(args, res.body, () => `node ${res.body.id} added: ${res.body.cpu} CPU, ${res.body.memoryMiB} MiB, ${res.body.diskMiB} MiB disk${res.body.bandwidthMbps === null ? '' : `, ${res.body.bandwidthMbps} Mbit/s leased`}`);
};

const list: Command = async (args) => {
  const res = await connect(args).get<{ nodes: NodeBody[] }>('/v1/nodes');
  const measured = res.body.nodes.some((n) => n.estimates !== undefined);
  // Pilots' nodes are lent by a batch system until their job ends: which job, and when they leave.
  const lent = res.body.nodes.some((n) => n.pilot !== null || n.departsAt !== null);
  const leasesBandwidth = res.body.nodes.some((n) => n.bandwidthMbps !== null);
  const head = ['ID', 'STATUS', 'CPU', 'MEMORY MiB', 'DISK MiB', ...(leasesBandwidth ? ['Mbit/s'] : []), 'LEASES', 'ADDED', ...(lent ? ['PILOT JOB', 'DEPARTS'] : []), ...(measured ? ['SUSPEND MiB/s', 'RESUME MiB/s', 'MIGRATE MiB/s', 'BOOT s'] : [])];
  const row = (n: NodeBody): string[] => [
    n.id, n.status, String(n.cpu), String(n.memoryMiB), String(n.diskMiB), ...(leasesBandwidth ? [n.bandwidthMbps === null ? '-' : String(n.bandwidthMbps)] : []), String(n.leases?.length ?? 0), when(n.addedAt),
    ...(lent ? [n.pilot ?? '-', n.departsAt === null ? '-' : when(n.departsAt)] : []),
    ...(measured ? [figure(n.estimates?.suspendMiBps), figure(n.estimates?.resumeMiBps), figure(n.estimates?.migrateMiBps), figure(n.estimates?.bootSeconds)] : []),
  ];
  return emit(args, res.body, () => (res.body.nodes.length === 0 ? 'no nodes' : table(head, res.body.nodes.map(row))));
};

const drain: Command = async (args) => {
  const id = args.positionals[0];
  const evacuate = args.flag('evacuate');
  const res = await connect(args).send<{ requeued: string[]; stillPlanned: string[]; moved: string[]; renegotiating: string[] }>('POST', `/v1/nodes/${enc(id)}/${evacuate ? 'evacuate' : 'drain'}`);
  const { requeued, stillPlanned, moved, renegotiating } = res.body;
  return emit(args, res.body, () =>
    [
      `node ${id} draining: it takes no new leases`,
      ...(requeued.length ? [`  back in the queue: ${requeued.join(', ')}`] : []),
      ...(moved.length ? [`  moved to other nodes: ${moved.join(', ')}`] : []),
      ...(renegotiating.length ? [`  fit nowhere else, renegotiating with their owners: ${renegotiating.join(', ')}`] : []),
      ...(stillPlanned.length ? [`  still planned there (remove it once they end): ${stillPlanned.join(', ')}`] : []),
    ].join('\n'));
};

const remove: Command = async (args) => {
  const res = await connect(args).send<{ removed: string }>('DELETE', `/v1/nodes/${enc(args.positionals[0])}`);
  return emit(args, res.body, () => `node ${res.body.removed} removed`);
};

export const NODE_COMMANDS: Record<string, Command> = { add, list, drain, remove };
