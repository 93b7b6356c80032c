// vws pilot list | drain | cancel: the pilot jobs that lend a batch system's nodes, for administrators.

import { type Command, connect, emit, enc } from './command.ts';
import { table, when } from './tables.ts';

interface PilotBody {
  id: string;
  state: string;
  nodes: string[];
  startsAt: number | null;
  endsAt: number | null;
  reason: string;
  partition: string;
  idleSince: number | null;
  leaving: boolean;
  poolNodes: Array<{ id: string; status: string; departsAt: number | null; leases: number }>;
}

const at = (t: number | null): string => (t === null ? '-' : when(t));

const list: Command = async (args) => {
  const res = await connect(args).get<{ pilots: PilotBody[] }>('/v1/pilots');
  const head = ['JOB', 'STATE', 'PARTITION', 'STARTS', 'ENDS', 'BATCH NODES', 'POOL NODES', 'IDLE SINCE', 'NOTE'];
  const row = (p: PilotBody): string[] => [
    p.id, p.state, p.partition, at(p.startsAt), at(p.endsAt), p.nodes.join(',') || '-',
    p.poolNodes.map((n) => `${n.id} (${n.status})`).join(', ') || '-', at(p.idleSince), p.leaving ? 'leaving' : p.state === 'PENDING' ? p.reason : '',
  ];
  return emit(args, res.body, () => (res.body.pilots.length === 0 ? 'no pilots' : table(head, res.body.pilots.map(row))));
};

const drain: Command = async (args) => {
  const id = args.positionals[0];
  const res = await connect(args).send<{ drained: string }>('POST', `/v1/pilots/${enc(id)}/drain`);
  return emit(args, res.body, () => `pilot ${id} draining: it takes no new leases and goes back to the batch system once idle`);
};

const cancel: Command = async (args) => {
  const id = args.positionals[0];
  const res = await connect(args).send<{ cancelled: string }>('POST', `/v1/pilots/${enc(id)}/cancel`);
  return emit(args, res.body, () => `pilot ${id} cancelled: its VMs are suspended within the grace time and resume on another pilot`);
};

export const PILOT_COMMANDS: Record<string, Command> = { list, drain, cancel };
