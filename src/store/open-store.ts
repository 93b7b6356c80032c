import { openPostgresStore } from './postgres-store.ts';
import { openSqliteStore } from './sqlite-store.ts';
import type { Store } from './store.ts';

/** A postgres:// URL opens PostgreSQL; anything else is a SQLite file path. Either is migrated. */
export function openStore(where: string): Promise<Store> {
  return /^postgres(ql)?:\/\//.test(where) ? openPostgresStore(where) : openSqliteStore(where);
}
