// A VM's NoCloud seed on its node: an iso9660 volume labelled `cidata` holding meta-data,
// user-data and network-config, as cloud-init's NoCloud data source looks for it. It may hold the
// VM's one-time secret, so it is readable by root alone, and it is made aside and renamed into
// place so that QEMU never opens half of one.

import { execFile } from 'node:child_process';
import { chmod, mkdtemp, rename, rm, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { promisify } from 'node:util';
import { seedProblem } from '../drivers/qemu/agent-messages.ts';
import type { SeedFiles } from '../drivers/qemu/protocol.ts';

export const SEED_FILE = 'seed.iso';
export const SEED_LABEL = 'cidata';
export const GENISOIMAGE = '/usr/bin/genisoimage';

const run = promisify(execFile);

export async function writeSeedVolume(seed: SeedFiles, file: string): Promise<void> {
  const wrong = seedProblem(seed);
  if (wrong) throw new Error(wrong);
  const work = await mkdtemp(join(dirname(file), '.seed-'));
  try {
    const files = { 'meta-data': seed.metaData, 'user-data': seed.userData, 'network-config': seed.networkConfig };
    for (const [name, text] of Object.entries(files)) await writeFile(join(work, name), text, { mode: 0o600 });
    const tmp = join(work, SEED_FILE);
    try {
      // Joliet and Rock Ridge, as cloud-localds makes it: cloud-init reads the files by their long names.
      await run(GENISOIMAGE, ['-quiet', '-output', tmp, '-volid', SEED_LABEL, '-joliet', '-rock', ...Object.keys(files)], { cwd: work });
    } catch (e) {
      const err = e as NodeJS.ErrnoException & { stderr?: string };
      if (err.code === 'ENOENT') throw new Error(`${GENISOIMAGE} is missing: install Debian's genisoimage on the node (apt-get install -y genisoimage); it makes VMs' cloud-init seeds`, { cause: e });
      throw new Error(`genisoimage could not make the seed volume: ${err.stderr?.trim() || err.message}`, { cause: e });
    }
    await chmod(tmp, 0o600);
    await rename(tmp, file);
  } finally {
    await rm(work, { recursive: true, force: true });
  }
}
