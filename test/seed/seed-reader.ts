// Seeds as the guest reads them: read-seed.py parses them with cloud-init's own YAML reader, MIME
// splitter and schema (Debian's cloud-init package on the host), many per process.
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import type { NoCloudSeed } from '../../src/seed/seed-input.ts';

const READER = new URL('read-seed.py', import.meta.url).pathname;
/** cloud-init's Python: its modules are importable there, whatever python3 is first on PATH. */
const PYTHON = '/usr/bin/python3';

export interface ReadPart {
  type: string;
  mergeType: string | null;
  text: string;
  config?: Record<string, unknown> | null;
  schemaProblem?: string | null;
  mergeProblem?: string;
}

export interface ReadSeed {
  metaData: Record<string, unknown>;
  networkConfig: Record<string, unknown>;
  multipart: boolean;
  parts: ReadPart[];
  /** The config cloud-init's part handler merges the #cloud-config parts into. */
  merged: Record<string, unknown> | null;
}

export function cloudInitThere(): boolean {
  return existsSync('/usr/bin/cloud-init');
}

export function readSeeds(seeds: readonly NoCloudSeed[]): ReadSeed[] {
  if (!cloudInitThere()) throw new Error("Debian's cloud-init is not installed: scripts/ensure-test-packages.sh installs it");
  const input = seeds.map((s) => JSON.stringify(s)).join('\n');
  const out = execFileSync(PYTHON, [READER], { input, encoding: 'utf8', maxBuffer: 256 << 20 });
  const read = out.trim().split('\n').map((line) => JSON.parse(line) as ReadSeed);
  if (read.length !== seeds.length) throw new Error(`read-seed.py answered ${read.length} seeds for ${seeds.length}`);
  return read;
}
