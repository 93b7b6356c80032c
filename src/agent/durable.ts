// Making files survive a host crash: a file's bytes reach the disk only at fsync, and a new or
// renamed name only when its directory is fsynced too. The agent reports a VM suspended only after
// both, since the scheduler then counts the lease as safely off the node.

import { closeSync, fsyncSync, openSync, renameSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';

/** The two fsyncs the agent needs; a test passes one that records the order of calls. */
export interface Syncer {
  file(path: string): void;
  dir(path: string): void;
}

function fsyncPath(path: string): void {
  // Read-only is enough for fsync, and the only way to open a directory.
  const fd = openSync(path, 'r');
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

export const fsSyncer: Syncer = { file: fsyncPath, dir: fsyncPath };

/** Replaces `file` with `data` atomically and durably: never a half-written file, after a crash either the old or the new. */
export function writeDurably(file: string, data: string, sync: Syncer): void {
  writeFileSync(`${file}.tmp`, data);
  sync.file(`${file}.tmp`);
  renameSync(`${file}.tmp`, file);
  sync.dir(dirname(file));
}
