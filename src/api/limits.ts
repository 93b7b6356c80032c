// Upper limits on what a request may ask for, until a site's terms set its own (issue 17): every
// number that reaches the scheduler and the store is finite and of a size both can hold, and a
// request beyond them is refused with the limit in the message, not failed in the store.

/** The latest instant a request may name (2100-01-01T00:00:00Z), in epoch seconds. */
export const LATEST_INSTANT = 4_102_444_800;
/** The longest lease, recurrence period or token life: 366 days. */
export const LONGEST_SECONDS = 366 * 86_400;
export const MOST_NODES = 100_000;
export const MOST_CPUS = 1_024;
/** 16 TiB of memory per node, 1 PiB of disk per node. */
export const MOST_MEMORY_MIB = 16 * 1024 * 1024;
export const MOST_DISK_MIB = 1024 * 1024 * 1024;
/** A 1 TiB image. */
export const LARGEST_IMAGE_MIB = 1024 * 1024;
