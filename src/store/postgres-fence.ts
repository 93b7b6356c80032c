// The fence on a PostgreSQL store: a statement trigger on every table of vws's schema refuses a
// write from a connection whose epoch (the custom setting vws.epoch, given when the connection
// opens) is not the leader's. Before it reads the epoch it takes the fence lock in share mode (an
// advisory lock: in memory, where a row lock would write to the row at every transaction), held to
// the end of the writing transaction; a takeover takes it exclusively before it raises the epoch,
// so it waits for the writes already under way and reads the input log only once they are in, and
// every write after it reads the new epoch: none slips in behind the new leader's back. Checked
// once per transaction: the lock holds to its end.

import { FENCED_SQLSTATE } from './leadership.ts';

/** The fence lock's key: one per schema, as the store's tables are. */
export const FENCE_LOCK = "hashtext('vws fence ' || COALESCE(current_schema(), ''))";

/** Tables the fence leaves alone: the election's own, and the schema's bookkeeping. */
export const UNFENCED = ['leadership', 'leader_heartbeat', 'schema_version'];

export const FENCE_FUNCTION = `
CREATE OR REPLACE FUNCTION vws_fence() RETURNS trigger LANGUAGE plpgsql AS $fence$
DECLARE
  mine text := current_setting('vws.epoch', true);
BEGIN
  -- A connection that never led (a tool, a migration) is not fenced; every server's is.
  IF mine IS NULL OR mine = '' THEN RETURN NULL; END IF;
  IF current_setting('vws.fenced_in', true) = txid_current()::text THEN RETURN NULL; END IF;
  PERFORM pg_advisory_xact_lock_shared(${FENCE_LOCK});
  PERFORM 1 FROM leadership WHERE id = 1 AND epoch = mine::bigint;
  IF NOT FOUND THEN
    RAISE EXCEPTION 'this server led the store as epoch %, and another server has taken over since: its writes are refused (it steps down and follows)', mine
      USING ERRCODE = '${FENCED_SQLSTATE}';
  END IF;
  PERFORM set_config('vws.fenced_in', txid_current()::text, true);
  RETURN NULL;
END
$fence$`;

/** The tables of the current schema that have no fence yet. */
export const UNFENCED_TABLES = `
SELECT c.relname AS name FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE n.nspname = current_schema() AND c.relkind = 'r'
  AND c.relname <> ALL ($1::text[])
  AND NOT EXISTS (SELECT 1 FROM pg_trigger t WHERE t.tgrelid = c.oid AND t.tgname = 'vws_fence')`;


export function fenceTrigger(table: string): string {
  return `CREATE TRIGGER vws_fence BEFORE INSERT OR UPDATE OR DELETE ON "${table}" FOR EACH STATEMENT EXECUTE FUNCTION vws_fence()`;
}
