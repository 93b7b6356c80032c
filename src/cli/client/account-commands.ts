// vws user | group | token: who may use the service. Users and groups are for administrators;
// anyone may make, list and revoke their own tokens.

import type { Args } from './args.ts';
import { type Command, connect, emit, enc } from './command.ts';
import type { Api } from './http.ts';
import { parseDuration } from './parse-time.ts';
import { orDash, table, when } from './tables.ts';

interface UserBody {
  id: string;
  name: string;
  isAdmin: boolean;
  createdAt: number;
}

interface GroupBody {
  name: string;
  shareLeases: boolean;
  createdAt: number;
  members?: string[];
}

interface TokenBody {
  id: string;
  userId: string;
  label: string;
  createdAt: number;
  expiresAt: number | null;
}

const userAdd: Command = async (args) => {
  const res = await connect(args).send<UserBody>('POST', '/v1/users', { name: args.positionals[0], admin: args.flag('admin') });
  return emit(args, res.body, () => `user ${res.body.id} added${res.body.isAdmin ? ' (admin)' : ''}; give them a token: vws token create --user ${res.body.id}`);
};

const userList: Command = async (args) => {
  const res = await connect(args).get<{ users: UserBody[] }>('/v1/users');
  return emit(args, res.body, () => table(['USER', 'ADMIN', 'CREATED'], res.body.users.map((u) => [u.id, u.isAdmin ? 'yes' : 'no', when(u.createdAt)])));
};

const groupAdd: Command = async (args) => {
  const res = await connect(args).send<GroupBody>('POST', '/v1/groups', { name: args.positionals[0], shareLeases: !args.flag('no-share') });
  return emit(args, res.body, () => `group ${res.body.name} added; members ${res.body.shareLeases ? 'see each other\'s leases' : 'see only their own leases'}`);
};

const groupList: Command = async (args) => {
  const res = await connect(args).get<{ groups: GroupBody[] }>('/v1/groups');
  return emit(args, res.body, () =>
    res.body.groups.length === 0 ? 'no groups' : table(['GROUP', 'SHARES LEASES', 'MEMBERS'], res.body.groups.map((g) => [g.name, g.shareLeases ? 'yes' : 'no', orDash(g.members?.join(', '))])));
};

const membership = (verb: 'add-member' | 'remove-member'): Command => async (args) => {
  const [group, user] = args.positionals;
  const api = connect(args);
  const res = verb === 'add-member'
    ? await api.send<{ group: string; members: string[] }>('POST', `/v1/groups/${enc(group)}/members`, { user })
    : await api.send<{ group: string; members: string[] }>('DELETE', `/v1/groups/${enc(group)}/members/${enc(user)}`);
  return emit(args, res.body, () => `group ${group}: ${res.body.members.length ? res.body.members.join(', ') : 'no members'}`);
};

/** --user, or the caller: tokens are usually one's own. */
async function userOf(args: Args, api: Api): Promise<string> {
  return args.string('user') ?? (await api.get<UserBody>('/v1/whoami')).body.id;
}

const tokenCreate: Command = async (args) => {
  const expires = args.string('expires');
  const label = args.string('label');
  const body = { ...(label !== undefined ? { label } : {}), ...(expires !== undefined ? { expiresIn: parseDuration('expires', expires, 60) } : {}) };
  const api = connect(args);
  const user = await userOf(args, api);
  const res = await api.send<{ id: string; token: string; user: string; expiresAt: number | null }>('POST', `/v1/users/${enc(user)}/tokens`, body);
  // The server says when: every token it makes expires, at the latest with the one that asked.
  const until = res.body.expiresAt === null ? 'never expires' : `expires ${when(res.body.expiresAt)}`;
  return emit(args, res.body, () => `token ${res.body.id} for ${res.body.user} (${until}); it is shown only this once:\n${res.body.token}`);
};

const tokenList: Command = async (args) => {
  const api = connect(args);
  const res = await api.get<{ tokens: TokenBody[] }>(`/v1/users/${enc(await userOf(args, api))}/tokens`);
  return emit(args, res.body, () =>
    res.body.tokens.length === 0 ? 'no tokens' : table(['ID', 'USER', 'LABEL', 'CREATED', 'EXPIRES'], res.body.tokens.map((t) => [t.id, t.userId, orDash(t.label), when(t.createdAt), t.expiresAt === null ? 'never' : when(t.expiresAt)])));
};

const tokenRevoke: Command = async (args) => {
  const res = await connect(args).send<{ deleted: string }>('DELETE', `/v1/tokens/${enc(args.positionals[0])}`);
  return emit(args, res.body, () => `token ${res.body.deleted} revoked`);
};

export const USER_COMMANDS: Record<string, Command> = { add: userAdd, list: userList };
export const GROUP_COMMANDS: Record<string, Command> = { add: groupAdd, list: groupList, 'add-member': membership('add-member'), 'remove-member': membership('remove-member') };
export const TOKEN_COMMANDS: Record<string, Command> = { create: tokenCreate, list: tokenList, revoke: tokenRevoke };
