// Reads a site's log from its store for a replay, while its server runs or after it stopped:
// the store is opened to read only (never migrated, never claimed; the database refuses any
// write), and one of another schema version than this vws's is refused, naming both.

import { existsSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { LATEST_VERSION } from '../../store/migrations.ts';
import { openStoreToRead } from '../../store/open-store.ts';
import type { Store } from '../../store/store.ts';
import { type Person, ReplayRefused, type SiteLog } from './site-log.ts';

const isPostgres = (where: string): boolean => /^postgres(ql)?:\/\//.test(where);

/** `where`: a data directory (vws serve --data) or a PostgreSQL URL (vws serve --store). */
export async function readSiteLog(where: string): Promise<SiteLog> {
  const shown = isPostgres(where) ? withoutPassword(where) : where;
  const store = open(where, shown);
  try {
    const version = await read(shown, () => store.schemaVersion());
    if (version === 0) throw new ReplayRefused(`${shown} holds no vws store (it has no schema version): give the --data directory or the --store URL a vws serve ran on`);
    if (version < LATEST_VERSION) {
      throw new ReplayRefused(`${shown} is a store of schema version ${version}, and this vws reads version ${LATEST_VERSION}: replay it with the vws that wrote it, or upgrade it first (vws serve of this version migrates it at start)`);
    }
    if (version > LATEST_VERSION) {
      throw new ReplayRefused(`${shown} is a store of schema version ${version}, newer than this vws knows (${LATEST_VERSION}): a newer vws wrote it; replay it with that version`);
    }
    return await read(shown, () => siteLogOf(store));
  } finally {
    await store.close();
  }
}

/** The log, nodes and people of a store open already (the service's own, for the dashboard's what-if). */
export async function siteLogOf(store: Store): Promise<SiteLog> {
  const [inputs, nodes, users] = await Promise.all([store.inputs(), store.listNodes(), store.listUsers()]);
  const people: Record<string, Person> = {};
  for (const u of users) people[u.id] = { admin: u.isAdmin, memberOf: await store.groupsOf(u.id) };
  return { inputs, nodes, people };
}

function open(where: string, shown: string): Store {
  if (isPostgres(where)) {
    try {
      return openStoreToRead(where);
    } catch (e) {
      throw new ReplayRefused(`${shown}: ${(e as Error).message}`);
    }
  }
  if (!existsSync(where)) throw new ReplayRefused(`${where}: no such directory: give the --data directory a vws serve ran on, or a postgres:// URL`);
  if (!statSync(where).isDirectory()) throw new ReplayRefused(`${where} is a file: give the directory it is in (vws serve --data DIR), or a postgres:// URL`);
  const file = join(where, 'vws.db');
  if (!existsSync(file)) throw new ReplayRefused(`${where} holds no vws store (no vws.db in it): give the --data directory a vws serve ran on, or a postgres:// URL`);
  return openStoreToRead(file);
}

/** A store that cannot be read (no server there, not a database) says so by its place. */
async function read<T>(shown: string, fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (e) {
    if (e instanceof ReplayRefused) throw e;
    throw new ReplayRefused(`cannot read ${shown}: ${(e as Error).message}`);
  }
}

function withoutPassword(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = '***';
    return u.toString();
  } catch {
    return url;
  }
}
