// Upper limits on what a request may ask for, until a site's terms set its own (issue 17): every
// number that reaches the scheduler and the store is finite and of a size both can hold, and a
// request beyond them is refused with the limit in the message, not failed in the store. They are
// the core's so that every layer holds the same ones: the API's schemas, the agents' messages
// (drivers/qemu/agent-messages.ts) and the service's last check before the scheduler hears an input.

/** The latest instant a request may name (2100-01-01T00:00:00Z), in epoch seconds. */
export const LATEST_INSTANT = 4_102_444_800;
/** The longest lease, recurrence period or token life: 366 days. */
export const LONGEST_SECONDS = 366 * 86_400;
export const MOST_NODES = 100_000;
/** Occurrences of one periodic lease. */
export const MOST_OCCURRENCES = 1_000;
export const MOST_CPUS = 1_024;
/** 16 TiB of memory per node, 1 PiB of disk per node. */
export const MOST_MEMORY_MIB = 16 * 1024 * 1024;
export const MOST_DISK_MIB = 1024 * 1024 * 1024;
/** The longest a hold may last before it is committed. */
export const LONGEST_HOLD_SECONDS = 86_400;
/** A node id: a host name's letters, short enough for any column and safe in a path or a URL. */
export const NODE_ID_PATTERN = '^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$';
/** A 1 TiB image. */
export const LARGEST_IMAGE_MIB = 1024 * 1024;

/** What PostgreSQL's text and jsonb cannot hold: NUL, and half of a surrogate pair (patterns for the `u` flag). */
const UNSTORABLE = '\\u0000\\ud800-\\udfff';
export const UNSTORABLE_CHARACTER = `[${UNSTORABLE}]`;
export const STORABLE_TEXT_PATTERN = `^[^${UNSTORABLE}]*$`;
