// vws login: checks a server and token against GET /v1/whoami, and only then stores them.

import { type Command, emit } from './command.ts';
import { configPath, resolveCredentials, writeConfig } from './config.ts';
import { ApiFailure } from './errors.ts';
import { Api } from './http.ts';

export const LOGIN_COMMAND: Command = async (args) => {
  // Not the config file: logging in with what is already stored would check nothing new.
  const credentials = resolveCredentials(args.credentials, process.env, null);
  const api = new Api(credentials.server, credentials.token);
  let me: { id: string; isAdmin: boolean; groups: string[] };
  try {
    me = (await api.get<typeof me>('/v1/whoami')).body;
  } catch (e) {
    if (e instanceof ApiFailure) e.hint = [`nothing was stored: ${credentials.server} does not accept this token`];
    throw e;
  }
  const path = configPath();
  writeConfig(path, credentials);
  return emit(args, me, () => `logged in to ${credentials.server} as ${me.id}${me.isAdmin ? ' (admin)' : ''}; saved in ${path}`);
};
