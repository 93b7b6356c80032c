import { openPostgresStore, PostgresStore } from './postgres-store.ts';
import { openSqliteStore, SqliteStore } from './sqlite-store.ts';
import type { Store } from './store.ts';

/**
 * A postgres:// URL opens PostgreSQL (`?schema=NAME` keeps vws's tables in their own schema);
 * anything else is a SQLite file path. Either is migrated.
 */
export function openStore(where: string): Promise<Store> {
  const pg = postgresPlace(where);
  return pg ? openPostgresStore(pg.url, { schema: pg.schema }) : openSqliteStore(where);
}

/**
 * The same store to read only, as it is (a replay of a site's log while its server runs): not
 * migrated, not claimed, and every write refused by the database itself. The SQLite file must exist.
 */
export function openStoreToRead(where: string): Store {
  const pg = postgresPlace(where);
  return pg ? new PostgresStore(pg.url, { schema: pg.schema, readOnly: true }) : new SqliteStore(where, { readOnly: true });
}

function postgresPlace(where: string): { url: string; schema: string | undefined } | null {
  if (!/^postgres(ql)?:\/\//.test(where)) return null;
  const url = new URL(where);
  const schema = url.searchParams.get('schema') ?? undefined;
  url.searchParams.delete('schema');
  return { url: url.toString(), schema };
}
