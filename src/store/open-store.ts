import { openPostgresStore } from './postgres-store.ts';
import { openSqliteStore } from './sqlite-store.ts';
import type { Store } from './store.ts';

/**
 * A postgres:// URL opens PostgreSQL (`?schema=NAME` keeps vws's tables in their own schema);
 * anything else is a SQLite file path. Either is migrated.
 */
export function openStore(where: string): Promise<Store> {
  if (!/^postgres(ql)?:\/\//.test(where)) return openSqliteStore(where);
  const url = new URL(where);
  const schema = url.searchParams.get('schema') ?? undefined;
  url.searchParams.delete('schema');
  return openPostgresStore(url.toString(), { schema });
}
