// vws workspace list LEASE | show LEASE INDEX: the VMs of a lease, one per node.

import { indexArgument } from './args.ts';
import { type Command, connect, emit, enc } from './command.ts';
import { ClientError } from './errors.ts';
import { type WorkspaceBody, workspaceDetail, workspaceTable } from './lease-text.ts';

const list: Command = async (args) => {
  const res = await connect(args).get<{ workspaces: WorkspaceBody[] }>(`/v1/leases/${enc(args.positionals[0])}/workspaces`);
  return emit(args, res.body, () => workspaceTable(res.body.workspaces));
};

const show: Command = async (args) => {
  const [lease, indexText] = args.positionals;
  const index = indexArgument('INDEX', indexText);
  // There is no endpoint for one workspace; the lease's list is short (one per node).
  const { workspaces } = (await connect(args).get<{ workspaces: WorkspaceBody[] }>(`/v1/leases/${enc(lease)}/workspaces`)).body;
  const w = workspaces.find((x) => x.index === index);
  if (!w) throw new ClientError(`lease ${lease} has no workspace ${index}${workspaces.length ? ` (it has ${workspaces.map((x) => x.index).join(', ')})` : ' (it has none yet)'}`);
  return emit(args, w, () => workspaceDetail(w));
};

export const WORKSPACE_COMMANDS: Record<string, Command> = { list, show };
